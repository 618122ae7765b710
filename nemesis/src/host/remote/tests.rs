//! Unit tests of the SSH hosts of a run: host addresses, the run directory on a host, SSH options.

use super::*;

#[test]
fn a_host_is_user_address_and_port_each_optional_but_the_address() {
    let h = HostAddr::parse("root@10.0.0.1:2222").unwrap();
    assert_eq!(h.user.as_deref(), Some("root"));
    assert_eq!(h.address, "10.0.0.1");
    assert_eq!(h.port, Some(2222));
    assert_eq!(h.destination(), "root@10.0.0.1:2222");
    let h = HostAddr::parse("db-1.example").unwrap();
    assert_eq!((h.user, h.port), (None, None));
    assert_eq!(HostAddr::parse("[fe80::1]:22").unwrap().address, "fe80::1");
    for bad in [
        "",
        "root@",
        "@10.0.0.1",
        "10.0.0.1:",
        "10.0.0.1:0",
        "10.0.0.1:99999",
        "a b",
        "fe80::1",
        "x@y@z;rm",
    ] {
        let e = HostAddr::parse(bad).expect_err(bad);
        assert!(e.starts_with("--hosts"), "{e}");
    }
}

#[test]
fn a_runs_directory_on_a_host_is_named_after_its_test_and_time() {
    assert_eq!(
        run_root(Path::new("results/kv test/20261202T061544")),
        Path::new("/tmp/faultline/runs/kv test/20261202T061544")
    );
    assert_eq!(
        remove_run_root_script(Path::new("/tmp/faultline/runs/it's/1")),
        r"rm -rf '/tmp/faultline/runs/it'\''s/1'; rmdir '/tmp/faultline/runs/it'\''s' 2>/dev/null; true"
    );
}

#[test]
fn ssh_options_set_the_fields_they_name_and_refuse_what_faultline_sets() {
    let s = SshSettings {
        key: Some("/k".into()),
        options: vec![
            ("StrictHostKeyChecking".into(), "accept-new".into()),
            ("Port".into(), "2200".into()),
        ],
    };
    let t = s.target("root@h").unwrap();
    assert!(t.accept_new);
    assert_eq!(t.key.as_deref(), Some(Path::new("/k")));
    assert_eq!(t.options, vec![("Port".to_string(), "2200".to_string())]);
    for bad in [
        ("BatchMode", "no"),
        ("StrictHostKeyChecking", "no"),
        ("Bad Key", "x"),
    ] {
        let s = SshSettings {
            key: None,
            options: vec![(bad.0.into(), bad.1.into())],
        };
        assert!(s.target("h").is_err(), "{bad:?}");
    }
}
