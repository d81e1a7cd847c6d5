use crate::config::{Sources, TargetHelper, load};
use crate::problem::Problem;

fn load_text(text: &str) -> (Option<crate::config::TargetSettings>, Vec<Problem>) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cinder.conf");
    std::fs::write(&f, text).unwrap();
    let l = load(&Sources {
        config_files: vec![f],
        allow_insecure_files: true,
        ..Sources::default()
    });
    let t = l
        .config
        .and_then(|c| c.backends.first().map(|b| b.target.clone()));
    (t, l.problems)
}

const HEAD: &str = "[DEFAULT]\nenabled_backends = lvm\n";

#[test]
fn cinders_defaults_with_my_ip_resolved() {
    let (t, problems) = load_text(&format!(
        "{HEAD}my_ip = 192.0.2.7\n[lvm]\nvolume_group = vg\n"
    ));
    let t = t.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(t.target_helper, "tgtadm");
    assert_eq!(t.helper(), TargetHelper::Unsupported);
    assert_eq!(t.target_ip_address, "192.0.2.7");
    assert_eq!(t.target_prefix, "iqn.2010-10.org.openstack:");
    assert_eq!(
        (t.target_port, t.nvmet_port_id, t.nvmet_ns_id),
        (3260, 1, 10)
    );
    assert_eq!(t.nvmeof_conn_info_version, 1);
    assert!(!t.report_discard_supported);
}

#[test]
fn my_ip_unset_is_the_hosts_route_source() {
    let (t, _) = load_text(&format!("{HEAD}[lvm]\nvolume_group = vg\n"));
    assert_eq!(t.unwrap().target_ip_address, crate::config::myip::my_ipv4());
}

#[test]
fn lioadm_and_nvmet_are_read_as_cinder_reads_them() {
    let (t, problems) = load_text(&format!(
        "{HEAD}[backend_defaults]\ntarget_port = 4420\n[lvm]\nvolume_group = vg\ntarget_helper = nvmet\ntarget_protocol = nvmet_tcp\ntarget_ip_address = 10.0.0.1\ntarget_secondary_ip_addresses = 10.0.0.2, 10.0.0.3\nnvmeof_conn_info_version = 2\nnvmet_port_id = 5\nreport_discard_supported = true\n"
    ));
    assert!(problems.is_empty(), "{problems:?}");
    let t = t.unwrap();
    assert_eq!(t.helper(), TargetHelper::Nvmet);
    assert_eq!(t.unsupported(), None);
    assert_eq!(t.target_port, 4420);
    assert_eq!(t.target_secondary_ip_addresses, ["10.0.0.2", "10.0.0.3"]);
    assert_eq!(t.nvmet_port_id, 5);
    assert!(t.report_discard_supported);
}

#[test]
fn the_deprecated_name_is_read_with_a_warning() {
    let (t, problems) = load_text(&format!(
        "{HEAD}[lvm]\nvolume_group = vg\ntarget_helper = lioadm\ntarget_ip_address = 10.0.0.1\niscsi_secondary_ip_addresses = 10.0.0.9\n"
    ));
    assert_eq!(t.unwrap().target_secondary_ip_addresses, ["10.0.0.9"]);
    assert!(
        problems
            .iter()
            .any(|p| !p.is_error() && p.message.contains("deprecated") && p.line == Some(7)),
        "{problems:?}"
    );
}

#[test]
fn an_unsupported_helper_written_is_a_warning_naming_what_to_set() {
    let (t, problems) = load_text(&format!(
        "{HEAD}[lvm]\nvolume_group = vg\ntarget_helper = tgtadm\n"
    ));
    assert!(t.is_some(), "the backend is still managed");
    let w: Vec<_> = problems.iter().filter(|p| !p.is_error()).collect();
    assert_eq!(w.len(), 1, "{problems:?}");
    assert!(
        w[0].message.contains("set target_helper = lioadm"),
        "{}",
        w[0].message
    );
    assert_eq!(w[0].line, Some(5));
    // iSER: not supported, a warning
    let (_, problems) = load_text(&format!(
        "{HEAD}[lvm]\nvolume_group = vg\ntarget_helper = lioadm\ntarget_protocol = iser\ntarget_ip_address = 10.0.0.1\n"
    ));
    assert!(
        problems
            .iter()
            .any(|p| !p.is_error() && p.message.contains("RDMA")),
        "{problems:?}"
    );
}

#[test]
fn values_oslo_refuses_are_errors() {
    for bad in [
        "target_helper = targetcli",
        "target_protocol = fc",
        "target_port = 70000",
        "nvmet_port_id = x",
        "nvmeof_conn_info_version = 3",
        "target_ip_address = $no_such_option",
    ] {
        let (t, problems) = load_text(&format!("{HEAD}[lvm]\nvolume_group = vg\n{bad}\n"));
        assert!(t.is_none(), "{bad}: accepted");
        assert!(
            problems.iter().any(|p| p.is_error() && p.line == Some(5)),
            "{bad}: {problems:?}"
        );
    }
}
