//! The HTTP surface through the facade: proxy settings, credentials and HttpOptions persist
//! across a service restart (D15) and a saved snapshot, and ALLOW_REPORT reports the final URL of
//! a redirect through GetRemoteName (D30).

mod common;
use bitsim::*;
use common::*;

const OLD: &str = "https://example.test/old";
const NEW: &str = "https://cdn.test/new";

fn redirecting() -> World {
    let mut old = Remote::default();
    let r = old.redirect(301, NEW);
    World::new()
        .remote(OLD, old.otherwise(r))
        .remote(NEW, Remote::sized(100))
}

#[test]
fn allow_report_makes_get_remote_name_the_final_url_and_silent_keeps_it() {
    let (sim, app) = alice(redirecting());
    let report = app.create_job("report", JobType::Download).unwrap();
    report.add_file(OLD, "C:\\dl\\r.bin").unwrap();
    report.set_security_flags(0x100).unwrap(); // ALLOW_REPORT
    let silent = app.create_job("silent", JobType::Download).unwrap();
    silent.add_file(OLD, "C:\\dl\\s.bin").unwrap();
    report.resume().unwrap();
    silent.resume().unwrap();
    sim.run_until_idle().unwrap();
    assert_eq!(report.get_state(), Ok(JobState::Transferred));
    assert_eq!(silent.get_state(), Ok(JobState::Transferred));
    let name = |j: &Job| j.enum_files().unwrap()[0].get_remote_name().unwrap();
    assert_eq!(name(&report), NEW);
    assert_eq!(name(&silent), OLD);
    let seen = sim.with_service(|s| s.requests_received(NEW));
    assert_eq!(seen.count, 2);
    assert_eq!(seen.last.unwrap().method, "GET");
}

#[test]
fn disallow_is_fatal_with_the_win32_status_and_the_redirected_name() {
    let (sim, app) = alice(redirecting());
    let job = app.create_job("deny", JobType::Download).unwrap();
    job.add_file(OLD, "C:\\dl\\d.bin").unwrap();
    job.set_security_flags(0x200).unwrap(); // DISALLOW
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_state(), Ok(JobState::Error));
    let (_, code) = job.get_error().unwrap().get_error().unwrap();
    assert_eq!(code, HResult::from_win32(301));
    assert_eq!(job.enum_files().unwrap()[0].get_remote_name().unwrap(), NEW);
}

#[test]
fn http_settings_survive_restart_and_snapshot_and_credentials_stay_unreadable() {
    let (sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    job.set_proxy_settings((2, Some("proxy.test:8080"), Some("<local>")))
        .unwrap();
    job.set_credentials(&Credentials {
        target: 1,
        scheme: 1,
        user: Some("u".into()),
        password: Some("p".into()),
    })
    .unwrap();
    job.set_custom_headers(Some("X-Key: k1\r\n")).unwrap();
    job.set_security_flags(0x0101).unwrap();
    job.set_use_stored_credentials(2).unwrap();
    let id = job.id();
    sim.restart_service();
    let app = sim.connect("app2", sim.user("alice")).unwrap();
    let job = app.get_job(id).unwrap();
    let p = job.get_proxy_settings().unwrap();
    assert_eq!(p.usage, ProxyUsage::Override);
    assert_eq!(p.proxy_list.as_deref(), Some("proxy.test:8080"));
    assert_eq!(p.bypass_list.as_deref(), Some("<local>"));
    assert_eq!(job.get_custom_headers(), Ok(Some("X-Key: k1\r\n".into())));
    assert_eq!(job.get_security_flags(), Ok(0x0101));
    assert_eq!(job.get_use_stored_credentials(), Ok(2));
    let held = sim.with_service(|s| s.held_credentials(id, AuthTarget::Server, AuthScheme::Basic));
    assert_eq!(held, Some(Some("u".to_string())));
    // A saved snapshot carries them too; a job at the defaults writes no "http" key.
    let json = sim.with_service(|s| s.to_snapshot_json());
    assert!(json.contains("\"proxy_list\""), "{json}");
    let plain = Sim::new(World::new());
    let a = plain.connect("a", plain.user("bob")).unwrap();
    a.create_job("plain", JobType::Download).unwrap();
    assert!(!plain
        .with_service(|s| s.to_snapshot_json())
        .contains("\"http\""));
    // RemoveCredentials: S_OK, then S_FALSE.
    assert_eq!(job.remove_credentials(1, 1), Ok(HResult::S_OK));
    assert_eq!(job.remove_credentials(1, 1), Ok(HResult::S_FALSE));
    assert_eq!(job.make_custom_headers_write_only(), Ok(()));
    assert_eq!(job.get_custom_headers(), Err(HResult::E_ACCESSDENIED));
}

/// Bad input in the HTTP parts of a scenario is refused at load with its place (exit 2 on the
/// command line), never run and never a panic.
#[test]
fn bad_http_input_is_refused_with_its_pointer() {
    let bad = |world: &str, steps: &str, pointer: &str, words: &str| {
        let text =
            format!(r#"{{"name": "n", "description": "d", "world": {world}, "steps": [{steps}]}}"#);
        let e = bitsim::scenario::Scenario::parse(&text, "h.json").unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some(pointer), "{e:?}");
        assert!(e.message.contains(words), "{e:?}");
        assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    };
    let job = r#"{"do": "create_job", "name": "j", "bind": "j"}"#;
    bad(
        r#"{"system_proxy": "a b"}"#,
        "",
        "/world/system_proxy",
        "proxy name",
    );
    bad(
        r#"{"proxies": {"p:1": {"valid": 1}}}"#,
        "",
        "/world/proxies/p:1/valid",
        "",
    );
    bad(
        r#"{"proxies": {"p:1": {"auth": {"schemes": []}}}}"#,
        "",
        "/world/proxies/p:1/auth/schemes",
        "at least one",
    );
    bad(
        r#"{"remotes": {"u": {"auth": {"schemes": ["KERBEROS"]}}}}"#,
        "",
        "/world/remotes/u/auth/schemes/0",
        "KERBEROS",
    );
    bad(
        r#"{"remotes": {"u": {"certificate": "EXPIRED"}}}"#,
        "",
        "/world/remotes/u/certificate",
        "EXPIRED",
    );
    bad(
        r#"{"remotes": {"u": {"required_headers": ["nocolon"]}}}"#,
        "",
        "/world/remotes/u/required_headers/0",
        "header line",
    );
    bad(
        r#"{"remotes": {"u": {"client_certificate": {"trusted": ["00"]}}}}"#,
        "",
        "/world/remotes/u/client_certificate/trusted/0",
        "SHA-1",
    );
    bad(
        r#"{"remotes": {"u": {"otherwise": {"redirect": "v", "http": 200}}}}"#,
        "",
        "/world/remotes/u/otherwise/http",
        "redirect status",
    );
    bad(
        r#"{"remotes": {"u": {"responses": [{"redirect": "v", "after_bytes": 3}]}}}"#,
        "",
        "/world/remotes/u/responses/0/after_bytes",
        "after_bytes",
    );
    bad(
        "{}",
        &format!(
            r#"{job}, {{"do": "set_credentials", "job": "j", "target": "WEB", "scheme": "BASIC", "user": "u", "password": "p"}}"#
        ),
        "/steps/1/target",
        "WEB",
    );
    bad(
        "{}",
        &format!(
            r#"{job}, {{"do": "set_credentials", "job": "j", "target": "SERVER", "scheme": "BASIC", "user": 1, "password": "p"}}"#
        ),
        "/steps/1/user",
        "string or null",
    );
    bad(
        "{}",
        &format!(
            r#"{job}, {{"do": "set", "job": "j", "property": "proxy_settings", "value": {{"usage": "SOMETIMES"}}}}"#
        ),
        "/steps/1/value/usage",
        "SOMETIMES",
    );
    bad(
        "{}",
        &format!(
            r#"{job}, {{"check": "credentials", "job": "j", "target": "SERVER", "scheme": "NTLM", "present": false, "user": "u"}}"#
        ),
        "/steps/1/user",
        "present",
    );
    bad(
        "{}",
        r#"{"check": "requests", "url": "u", "last": {"credentials": {"target": "SERVER"}}}"#,
        "/steps/0/last/credentials",
        "scheme",
    );
}

#[test]
fn client_certificate_is_readable_and_take_ownership_removes_it_with_the_credentials() {
    let sim = Sim::new(World::new().certificate(ClientCertificate {
        location: 0,
        store: "MY".into(),
        subject: "Example Client".into(),
        sha1: "00112233445566778899aabbccddeeff00112233".into(),
    }));
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let job = app.create_job("j", JobType::Download).unwrap();
    assert_eq!(
        job.get_client_certificate(),
        Err(HResult::RPC_X_BAD_STUB_DATA)
    );
    job.set_client_certificate(0, "MY", CertificateBy::Subject("Client"))
        .unwrap();
    assert_eq!(
        job.get_client_certificate().unwrap().subject,
        "Example Client"
    );
    job.set_credentials(&Credentials {
        target: 1,
        scheme: 4,
        user: None,
        password: None,
    })
    .unwrap();
    let root = sim.connect("adm", sim.admin("root")).unwrap();
    let job = root.get_job(job.id()).unwrap();
    job.take_ownership().unwrap();
    assert_eq!(
        job.get_client_certificate(),
        Err(HResult::RPC_X_BAD_STUB_DATA)
    );
    let held = sim
        .with_service(|s| s.held_credentials(job.id(), AuthTarget::Server, AuthScheme::Negotiate));
    assert_eq!(held, None);
}
