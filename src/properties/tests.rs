//! The table's own consistency.

use super::*;

#[test]
fn every_property_is_declared_once_in_table_order() {
    for (i, d) in PROPERTIES.iter().enumerate() {
        assert_eq!(d.prop as usize, i, "{}", d.name);
        assert_eq!(Prop::from_name(d.name), Some(d.prop));
        assert_eq!(d.setter.is_some(), !d.settable_in.is_empty(), "{}", d.name);
    }
    assert_eq!(
        PropertyValue::NAMES,
        [
            "display_name",
            "description",
            "priority",
            "notify_flags",
            "minimum_retry_delay",
            "no_progress_timeout",
            "proxy_settings",
            "notify_cmd_line",
            "reply_file_name",
            "use_stored_credentials",
            "custom_headers",
            "security_flags",
            "http_method",
            "file_acl_flags",
            "peer_caching_flags",
            "maximum_download_time",
            "cost_flags",
            "notification_clsid",
            "dynamic_content",
            "high_performance",
            "max_download_size",
            "minimum_notification_interval_ms",
            "on_demand_mode"
        ]
    );
}

/// D32: SetFileACLFlags is refused from TRANSFERRED on (its row's states); every other new setter
/// works in every non-final state.
#[test]
fn d32_file_acl_flags_are_not_settable_once_transferred() {
    use crate::state::JobState;
    assert!(!Prop::FileAclFlags
        .decl()
        .settable_in
        .contains(&JobState::Transferred));
    assert!(Prop::FileAclFlags
        .decl()
        .settable_in
        .contains(&JobState::TransientError));
    assert!(Prop::PeerCachingFlags
        .decl()
        .settable_in
        .contains(&JobState::Transferred));
}

#[test]
fn settable_properties_are_scalars_that_round_trip() {
    for p in Prop::all().filter(|p| p.is_settable()) {
        let kind = p.scalar_kind().expect("a settable property is a scalar");
        let s = match kind {
            ScalarKind::Text => Scalar::Text("x".into()),
            ScalarKind::Number => Scalar::Number(7),
            ScalarKind::Priority => Scalar::Priority(PriorityValue::Raw(9)),
            ScalarKind::Flags(_) => Scalar::Flags(0x8000_0001),
            ScalarKind::Bool => Scalar::Bool(true),
            ScalarKind::Wide => Scalar::Wide(1 << 40),
            ScalarKind::Guid => Scalar::Guid(0x1234),
            ScalarKind::Proxy => Scalar::Proxy(ProxyValue {
                usage: 2,
                list: Some("p:1".into()),
                bypass: None,
            }),
            ScalarKind::OptText => Scalar::OptText(None),
            ScalarKind::CmdLine => Scalar::CmdLine(crate::CmdLineValue {
                program: Some("C:\\a.exe".into()),
                parameters: None,
            }),
        };
        let v = PropertyValue::from_scalar(p, s.clone()).expect("the kind it declares");
        assert_eq!(v.prop(), p);
        assert_eq!(v.scalar(), Some(s));
    }
}

#[test]
fn guids_show_as_braced_lowercase_hex() {
    assert_eq!(
        show_guid(0x6E1A_D6D4_0C3A_4B4E_9A55_2F1D_3C4B_5A69),
        "{6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a69}"
    );
    assert_eq!(show_guid(0), "{00000000-0000-0000-0000-000000000000}");
}
