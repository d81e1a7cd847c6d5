"""cinder.conf as cinder-volume reads it, with the real oslo.config: the oracle of
tests/oslo_parity.rs.

Usage: oracle.py DIR  -- reads DIR/*.conf (each a whole configuration), prints one JSON line
per file: {"file", "ok", "error", "enabled", "backends": {name: {...}}}.

The options are registered as cinder registers them (cinder/common/config.py,
cinder/volume/manager.py, cinder/volume/driver.py, cinder/volume/drivers/lvm.py,
cinder/cmd/volume.py): types, defaults, choices, regex, min/max. A backend's options are read
as cinder's BackendGroupConfiguration reads them: the backend's own section, whose defaults are
overridden to None so that an unset option falls back to [backend_defaults] (registered with
cinder's defaults); [DEFAULT] is never consulted for them. What is read: for every enabled
backend the options the volume manager and every driver's stats read (volume_driver,
volume_backend_name, backend_host, max_over_subscription_ratio, reserved_percentage); for an
LVM backend also the LVM driver's (volume_group, lvm_type, lvm_conf_file,
lvm_suppress_fd_warnings), and what its deletion of a thick volume reads (cinder reads them at
each deletion, not at start; ember when it reads cinder.conf): volume_clear and, unless it is
`none`, volume_clear_size and volume_clear_ionice, each falling back to [DEFAULT]'s when the
backend's is None (cinder/volume/volume_utils.py, clear_volume). oslo checks a value only when it
is read: so does this.
"""
import json
import os
import socket
import sys

from oslo_config import cfg

LVM_DRIVERS = {
    "cinder.volume.drivers.lvm.LVMVolumeDriver",
    "cinder.volume.drivers.lvm.LVMISCSIDriver",
    "cinder.volume.drivers.lvm.LVMISERDriver",
    "cinder.volume.drivers.lvm.LVMIserDriver",
    "cinder.volume.drivers.lvm.ThinLVMVolumeDriver",
}


def default_opts():
    return [
        cfg.HostAddressOpt("host", default=socket.gethostname()),
        cfg.StrOpt("state_path", default="/var/lib/cinder"),
        cfg.StrOpt("volume_name_template", default="volume-%s"),
        cfg.ListOpt("enabled_backends", default=None),
        # cinder/cmd/volume.py registers backend_host as a CLI option in [DEFAULT] and in each
        # backend's group (not in [backend_defaults])
        cfg.StrOpt("backend_host"),
    ] + clear_opts()


def clear_opts():
    # cinder/volume/driver.py: registered in [DEFAULT] and [backend_defaults]
    return [
        cfg.StrOpt("volume_clear", default="zero",
                   choices=[("none", "none"), ("zero", "zero")]),
        cfg.IntOpt("volume_clear_size", default=0, max=1024),
        cfg.StrOpt("volume_clear_ionice"),
    ]


def backend_opts():
    return [
        cfg.StrOpt("volume_driver", default="cinder.volume.drivers.lvm.LVMVolumeDriver"),
        cfg.StrOpt("volume_backend_name"),
        cfg.StrOpt("max_over_subscription_ratio", default="20.0",
                   regex=r"^(auto|\d*\.\d+|\d+)$"),
        cfg.IntOpt("reserved_percentage", default=0, min=0, max=100),
        cfg.StrOpt("volume_group", default="cinder-volumes"),
        cfg.StrOpt("lvm_type", default="auto",
                   choices=[("default", "thick"), ("thin", "thin"), ("auto", "auto")]),
        cfg.StrOpt("lvm_conf_file", default="/etc/cinder/lvm.conf"),
        cfg.BoolOpt("lvm_suppress_fd_warnings", default=False),
    ] + clear_opts()


class Backend:
    """cinder.volume.configuration.BackendGroupConfiguration, for one backend."""

    def __init__(self, conf, name):
        self.conf, self.name = conf, name
        try:
            conf.register_opt(cfg.StrOpt("backend_host"), group=name)
        except cfg.DuplicateOptError:
            pass
        for opt in backend_opts():
            try:
                conf.register_opt(opt, group="backend_defaults")
            except cfg.DuplicateOptError:
                pass
            if name != "backend_defaults":
                try:
                    conf.register_opt(opt, group=name)
                except cfg.DuplicateOptError:
                    pass
                conf.set_default(opt.name, None, group=name)

    def get(self, opt):
        v = getattr(self.conf[self.name], opt)
        if v is None:
            v = getattr(self.conf["backend_defaults"], opt)
        return v


def read(path):
    conf = cfg.ConfigOpts()
    conf.register_opts(default_opts())
    conf(args=["--config-file", path], project="cinder", prog="cinder-volume",
         default_config_files=[], default_config_dirs=[])
    # cinder-volume reads [DEFAULT] host at start (its services and logs), whether or not a
    # backend has backend_host
    default_host = conf.host
    # and names every volume with volume_name_template
    _ = conf.volume_name_template
    enabled = list(filter(None, conf.enabled_backends or []))
    out = {}
    for name in enabled:
        b = Backend(conf, name)
        driver = b.get("volume_driver")
        info = {
            "managed": driver in LVM_DRIVERS,
            "volume_backend_name": b.get("volume_backend_name"),
            "backend_host": getattr(conf[name], "backend_host"),
            "max_over_subscription_ratio": b.get("max_over_subscription_ratio"),
            "reserved_percentage": b.get("reserved_percentage"),
        }
        if info["managed"]:
            info["volume_group"] = b.get("volume_group")
            info["lvm_type"] = b.get("lvm_type")
            info["lvm_conf_file"] = b.get("lvm_conf_file")
            info["lvm_suppress_fd_warnings"] = b.get("lvm_suppress_fd_warnings")
            # cinder's LVMVolumeDriver._delete_volume, then volume_utils.clear_volume
            info["volume_clear"] = b.get("volume_clear")
            if info["volume_clear"] != "none":
                size = b.get("volume_clear_size")
                info["volume_clear_size"] = conf.volume_clear_size if size is None else size
                ionice = b.get("volume_clear_ionice")
                info["volume_clear_ionice"] = (conf.volume_clear_ionice if ionice is None
                                               else ionice)
        # cinder/cmd/volume.py: host@backend, backend_host from the backend's section only
        host = getattr(conf[name], "backend_host") or default_host
        info["host"] = f"{host}@{name}"
        out[name] = info
    return enabled, out


def main():
    d = sys.argv[1]
    for f in sorted(os.listdir(d)):
        if not f.endswith(".conf"):
            continue
        path = os.path.join(d, f)
        try:
            enabled, backends = read(path)
            r = {"file": f, "ok": True, "enabled": enabled, "backends": backends}
        except Exception as e:  # noqa: BLE001 - any failure is cinder refusing the file
            r = {"file": f, "ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
