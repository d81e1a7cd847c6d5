use super::*;

fn opts(conf: Option<PathBuf>) -> crate::lvm::LvmOptions {
    crate::lvm::LvmOptions {
        lvm_conf_file: conf,
        suppress_fd_warnings: false,
        read_timeout: Duration::from_secs(1),
        write_warn_after: Duration::from_secs(1),
        use_shell: true,
        keep_shell: false,
        state_dir: None,
    }
}

#[test]
fn a_stamp_covers_the_lvm_binary_and_the_configuration_lvm_reads() {
    // the default configuration directory, and the binary found on lvm's PATH
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("sbin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(bin.join("lvm"), "").unwrap();
    let mut cli = LvmCli::new(Path::new("lvm"), &opts(None));
    cli.env.retain(|(k, _)| k != "PATH");
    cli.env.push(("PATH".into(), bin.clone().into_os_string()));
    // (and whatever devices files this machine's /etc/lvm/devices holds, after these)
    assert_eq!(
        cli.stamped_files()[..4],
        [
            bin.join("lvm"),
            PathBuf::from("/etc/lvm/lvm.conf"),
            PathBuf::from("/etc/lvm/lvmlocal.conf"),
            PathBuf::from("/etc/lvm/devices")
        ]
    );
    // cinder.conf's lvm_conf_file: its directory is lvm's (LVM_SYSTEM_DIR), with every
    // devices file in it
    let conf = d.path().join("lvm.conf");
    std::fs::write(&conf, "").unwrap();
    std::fs::create_dir(d.path().join("devices")).unwrap();
    std::fs::write(d.path().join("devices/system.devices"), "").unwrap();
    std::fs::write(d.path().join("devices/other.devices"), "").unwrap();
    let cli = LvmCli::new(&bin.join("lvm"), &opts(Some(conf.clone())));
    assert_eq!(
        cli.stamped_files(),
        [
            bin.join("lvm"),
            conf,
            d.path().join("lvmlocal.conf"),
            d.path().join("devices"),
            d.path().join("devices/other.devices"),
            d.path().join("devices/system.devices")
        ]
    );
}
