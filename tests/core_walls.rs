//! The core's walls, checked from outside: the property table drives the generic and the typed
//! property methods alike (with their D4, D14 and §1.3 behaviour), no fixture's trace shows an engine
//! event the transition table refused, and the core modules import each other without cycles.

mod common;

use bitsim::scenario::{run_paths, RunOptions};
use bitsim::PriorityValue;
use bitsim::{
    ErrorContext, HResult, JobState, JobType, Priority, Prop, PropertyValue, Remote, Response, Sim,
    World, PROPERTIES,
};
use std::collections::{BTreeMap, BTreeSet};

fn sim() -> (Sim, bitsim::Manager) {
    let sim = Sim::new(
        World::new()
            .remote("https://x.test/a", Remote::sized(1000))
            .remote(
                "https://x.test/flaky",
                Remote::sized(1000).with_responses([Response::http(503)]),
            ),
    );
    let app = sim.connect("app", sim.user("alice")).unwrap();
    (sim, app)
}

#[test]
fn spec_10_item_1_defaults_through_get_property() {
    let (_sim, app) = sim();
    let job = app.create_job("nightly", JobType::Download).unwrap();
    let get = |p| job.get_property(p).unwrap();
    assert_eq!(
        get(Prop::DisplayName),
        PropertyValue::DisplayName("nightly".into())
    );
    assert_eq!(
        get(Prop::Description),
        PropertyValue::Description(String::new())
    );
    assert_eq!(
        get(Prop::Priority),
        PropertyValue::Priority(PriorityValue::Named(Priority::Normal))
    );
    assert_eq!(get(Prop::NotifyFlags), PropertyValue::NotifyFlags(3));
    assert_eq!(
        get(Prop::MinimumRetryDelay),
        PropertyValue::MinimumRetryDelay(600)
    );
    assert_eq!(
        get(Prop::NoProgressTimeout),
        PropertyValue::NoProgressTimeout(1_209_600)
    );
    assert_eq!(get(Prop::State), PropertyValue::State(JobState::Suspended));
    assert_eq!(get(Prop::Type), PropertyValue::Type(JobType::Download));
    assert_eq!(get(Prop::ErrorCount), PropertyValue::ErrorCount(0));
    // The declared defaults of the scalar properties read as the getter shows them.
    for d in PROPERTIES {
        if let Ok(n) = d.default.parse::<u32>() {
            assert_eq!(get(d.prop).show(), n.to_string(), "{}", d.name);
        }
    }
}

#[test]
fn every_declared_property_reads_the_same_generically_and_typed() {
    let (sim, app) = sim();
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file("https://x.test/a", "C:\\a").unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    for d in PROPERTIES {
        if d.prop == Prop::ReplyFileName {
            // A download job has no reply (§2.3): both ways give E_NOTIMPL.
            assert_eq!(job.get_reply_file_name(), Err(HResult::E_NOTIMPL));
            assert_eq!(job.get_property(d.prop), Err(HResult::E_NOTIMPL));
            continue;
        }
        let typed = match d.prop {
            Prop::DisplayName => PropertyValue::DisplayName(job.get_display_name().unwrap()),
            Prop::Description => PropertyValue::Description(job.get_description().unwrap()),
            Prop::Priority => {
                PropertyValue::Priority(PriorityValue::Named(job.get_priority().unwrap()))
            }
            Prop::NotifyFlags => PropertyValue::NotifyFlags(job.get_notify_flags().unwrap().bits()),
            Prop::MinimumRetryDelay => {
                PropertyValue::MinimumRetryDelay(job.get_minimum_retry_delay().unwrap())
            }
            Prop::NoProgressTimeout => {
                PropertyValue::NoProgressTimeout(job.get_no_progress_timeout().unwrap())
            }
            Prop::State => PropertyValue::State(job.get_state().unwrap()),
            Prop::Type => PropertyValue::Type(job.get_type().unwrap()),
            Prop::Owner => PropertyValue::Owner(job.get_owner().unwrap()),
            Prop::Progress => PropertyValue::Progress(job.get_progress().unwrap()),
            Prop::Times => PropertyValue::Times(job.get_times().unwrap()),
            Prop::ErrorCount => PropertyValue::ErrorCount(job.get_error_count().unwrap()),
            Prop::FileAclFlags => PropertyValue::FileAclFlags(job.get_file_acl_flags().unwrap()),
            Prop::PeerCachingFlags => {
                PropertyValue::PeerCachingFlags(job.get_peer_caching_flags().unwrap())
            }
            Prop::MaximumDownloadTime => {
                PropertyValue::MaximumDownloadTime(job.get_maximum_download_time().unwrap())
            }
            Prop::OwnerIntegrityLevel => {
                PropertyValue::OwnerIntegrityLevel(job.get_owner_integrity_level().unwrap())
            }
            Prop::OwnerElevationState => {
                PropertyValue::OwnerElevationState(job.get_owner_elevation_state().unwrap())
            }
            Prop::CostFlags => PropertyValue::CostFlags(job.get_cost_flags().unwrap()),
            Prop::NotificationClsid => {
                PropertyValue::NotificationClsid(job.get_notification_clsid().unwrap())
            }
            Prop::DynamicContent => {
                PropertyValue::DynamicContent(job.get_dynamic_content().unwrap())
            }
            Prop::HighPerformance => {
                PropertyValue::HighPerformance(job.get_high_performance().unwrap())
            }
            Prop::MaxDownloadSize => {
                PropertyValue::MaxDownloadSize(job.get_max_download_size().unwrap())
            }
            Prop::MinimumNotificationIntervalMs => PropertyValue::MinimumNotificationIntervalMs(
                job.get_minimum_notification_interval_ms().unwrap(),
            ),
            Prop::OnDemandMode => PropertyValue::OnDemandMode(job.get_on_demand_mode().unwrap()),
            Prop::ProxySettings => {
                PropertyValue::ProxySettings(job.get_proxy_settings().unwrap().into())
            }
            Prop::UseStoredCredentials => {
                PropertyValue::UseStoredCredentials(job.get_use_stored_credentials().unwrap())
            }
            Prop::CustomHeaders => PropertyValue::CustomHeaders(job.get_custom_headers().unwrap()),
            Prop::SecurityFlags => PropertyValue::SecurityFlags(job.get_security_flags().unwrap()),
            Prop::HttpMethod => PropertyValue::HttpMethod(job.get_http_method().unwrap()),
            Prop::NotifyCmdLine => {
                PropertyValue::NotifyCmdLine(job.get_notify_cmd_line().unwrap().into())
            }
            Prop::ReplyFileName => unreachable!("handled above"),
        };
        assert_eq!(job.get_property(d.prop), Ok(typed), "{}", d.name);
    }
    assert_eq!(
        job.get_property(Prop::State),
        Ok(PropertyValue::State(JobState::Transferred))
    );
}

#[test]
fn d14_set_property_validates_as_the_typed_setters() {
    let (_sim, app) = sim();
    let job = app.create_job("j", JobType::Download).unwrap();
    let set = |v: PropertyValue| job.set_property(&v);
    assert_eq!(
        set(PropertyValue::DisplayName("a".repeat(257))),
        Err(HResult::E_INVALIDARG)
    );
    assert_eq!(set(PropertyValue::DisplayName("b".repeat(256))), Ok(()));
    assert_eq!(
        set(PropertyValue::Description("c".repeat(1025))),
        Err(HResult::E_INVALIDARG)
    );
    assert_eq!(
        set(PropertyValue::Priority(PriorityValue::Raw(4))),
        Err(HResult::E_NOTIMPL)
    );
    assert_eq!(set(PropertyValue::Priority(PriorityValue::Raw(3))), Ok(()));
    assert_eq!(job.get_priority(), Ok(Priority::Low));
    assert_eq!(
        set(PropertyValue::NotifyFlags(0x40)),
        Err(HResult::E_NOTIMPL)
    );
    assert_eq!(set(PropertyValue::NotifyFlags(0x3F)), Ok(()));
    assert_eq!(job.get_notify_flags().map(|f| f.bits()), Ok(0x3F));
    // D14: a retry delay under 5 s stores 5 and succeeds.
    assert_eq!(set(PropertyValue::MinimumRetryDelay(1)), Ok(()));
    assert_eq!(job.get_minimum_retry_delay(), Ok(5));
    // Read-only properties have no setter.
    assert_eq!(
        set(PropertyValue::ErrorCount(3)),
        Err(HResult::BG_E_READ_ONLY_PROPERTY)
    );
    assert_eq!(
        set(PropertyValue::State(JobState::Queued)),
        Err(HResult::BG_E_READ_ONLY_PROPERTY)
    );
    assert_eq!(job.get_state(), Ok(JobState::Suspended));
}

#[test]
fn final_state_is_checked_before_the_arguments() {
    let (_sim, app) = sim();
    let job = app.create_job("j", JobType::Download).unwrap();
    job.cancel().unwrap();
    for d in PROPERTIES.iter().filter(|d| d.setter.is_some()) {
        assert!(!d.settable_in.contains(&JobState::Cancelled), "{}", d.name);
    }
    // §1.3 before D14: an invalid name on a cancelled job is BG_E_INVALID_STATE, not E_INVALIDARG.
    assert_eq!(
        job.set_property(&PropertyValue::DisplayName("a".repeat(300))),
        Err(HResult::BG_E_INVALID_STATE)
    );
    assert_eq!(
        job.set_property(&PropertyValue::Priority(PriorityValue::Raw(9))),
        Err(HResult::BG_E_INVALID_STATE)
    );
}

#[test]
fn d4_t12_lowering_the_timeout_in_transient_error_escalates_with_the_last_record() {
    let (sim, app) = sim();
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file("https://x.test/flaky", "C:\\f").unwrap();
    job.resume().unwrap();
    sim.advance_secs(100);
    assert_eq!(job.get_state(), Ok(JobState::TransientError));
    assert_eq!(
        job.set_property(&PropertyValue::NoProgressTimeout(50)),
        Ok(())
    );
    assert_eq!(job.get_state(), Ok(JobState::Error));
    let e = job.get_error().unwrap();
    assert_eq!(
        e.get_error(),
        Ok((ErrorContext::RemoteFile, HResult::http(503)))
    );
    assert_eq!(
        common::rules(&sim, &job).last().map(String::as_str),
        Some("TRANSIENT_ERROR->ERROR T12")
    );
}

#[test]
fn no_fixture_trace_shows_a_refused_engine_event() {
    let batch = run_paths(
        &[common::root().join("fixtures/scenarios")],
        &RunOptions { trace: true },
    );
    assert!(batch.invalid.is_empty());
    assert!(
        batch.results.len() >= 74,
        "{} fixtures",
        batch.results.len()
    );
    for r in &batch.results {
        assert!(r.passed, "{}", r.file);
        for block in &r.trace {
            for line in &block.events {
                assert!(!line.contains("BUG"), "{}: {line}", r.file);
            }
        }
    }
}

/// The core modules and what each imports (`use crate::x`, `crate::x::` paths, and names the crate
/// root re-exports from `x`).
fn module_imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = common::root().join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    // Names the root re-exports, and from which module.
    let mut reexported: BTreeMap<String, String> = BTreeMap::new();
    let flat = lib.replace('\n', " ");
    for stmt in flat.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        for n in names
            .trim_matches(|c| c == '{' || c == '}' || c == ' ')
            .split(',')
        {
            reexported.insert(n.trim().to_string(), module.trim().to_string());
        }
    }
    let modules = [
        "api",
        "calls",
        "engine",
        "heap",
        "http",
        "job",
        "names",
        "notify",
        "properties",
        "record",
        "service",
        "snapshot",
        "state",
        "time",
        "trace",
        "transition",
        "world",
        "hresult",
    ];
    let mut graph = BTreeMap::new();
    for m in modules {
        let file = src.join(format!("{m}.rs"));
        let files: Vec<_> = if file.exists() {
            vec![file]
        } else {
            std::fs::read_dir(src.join(m))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .collect()
        };
        let mut deps = BTreeSet::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            // Code only: comments may name any module.
            let text: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                let word: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(&word.as_str()) {
                    deps.insert(word);
                } else if rest.starts_with('{') {
                    let list = &rest[1..rest.find('}').unwrap_or(1)];
                    for n in list.split(',') {
                        if let Some(module) = reexported.get(n.trim()) {
                            deps.insert(module.clone());
                        }
                    }
                } else if let Some(module) = reexported.get(&word) {
                    deps.insert(module.clone());
                }
            }
        }
        deps.remove(m);
        graph.insert(m.to_string(), deps);
    }
    graph
}

#[test]
fn core_modules_import_each_other_without_cycles() {
    let graph = module_imports();
    // Depth-first search for a cycle, reporting its path.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(i) = path.iter().position(|p| p == m) {
            panic!("import cycle: {} -> {m}", path[i..].join(" -> "));
        }
        if done.contains(m) {
            return;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
    // The walls named in the design: the engine and the table know nothing of the service.
    for low in ["engine", "transition", "job", "names", "record"] {
        for high in ["service", "calls", "properties", "api", "snapshot"] {
            assert!(!graph[low].contains(high), "{low} imports {high}");
        }
    }
}
