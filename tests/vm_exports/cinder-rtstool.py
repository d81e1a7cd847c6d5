#!/usr/bin/python3
"""The export of a volume as cinder's lioadm target helper makes it, for the exports VM suite
(tests/vm_exports/adopt.rs): the same rtslib-fb calls, in the same order, as cinder's
`cinder-rtstool` (cinder/cmd/rtstool.py: `create`, `add-initiator`, `save`), which
cinder/volume/targets/lio.py runs at create_export and initialize_connection.

  cinder-rtstool.py create DEVICE NAME USERID PASSWORD ISER_ENABLED [INITIATORS] [-a IPS] [-p PORT]
  cinder-rtstool.py add-initiator TARGET_IQN USERID PASSWORD INITIATOR
  cinder-rtstool.py save
"""

import sys

import rtslib_fb


def create(device, name, userid, password, iser, initiators, ips, port):
    root = rtslib_fb.root.RTSRoot()
    # a storage object of that name already: nothing to do (as cinder's)
    if any(so.name == name for so in root.storage_objects):
        return
    so = rtslib_fb.BlockStorageObject(name=name, dev=device)
    target = rtslib_fb.Target(rtslib_fb.FabricModule('iscsi'), name, 'create')
    tpg = rtslib_fb.TPG(target, mode='create')
    tpg.set_attribute('authentication', '1')
    lun = rtslib_fb.LUN(tpg, storage_object=so)
    for initiator in [i for i in (initiators or '').strip(' ').split(',') if i]:
        acl = rtslib_fb.NodeACL(tpg, initiator, mode='create')
        acl.chap_userid = userid
        acl.chap_password = password
        rtslib_fb.MappedLUN(acl, lun.lun, lun.lun)
    tpg.enable = 1
    # no address given: every IPv4 and IPv6 address (a failed IPv6 bind is let pass)
    allowed_to_fail = ()
    if not ips:
        ips = ['0.0.0.0', '[::0]']
        allowed_to_fail = ('[::0]',)
    for ip in ips:
        if ':' in ip and not ip.startswith('['):
            ip = '[%s]' % ip
        try:
            portal = rtslib_fb.NetworkPortal(tpg, ip, port, mode='any')
        except rtslib_fb.utils.RTSLibError:
            if ip in allowed_to_fail:
                continue
            raise
        if iser == 'True':
            portal.iser = True


def add_initiator(target_iqn, userid, password, initiator):
    root = rtslib_fb.root.RTSRoot()
    target = next(t for t in root.targets if t.wwn == target_iqn)
    tpg = next(target.tpgs)
    # an ACL for that initiator already (names compare without case): left as it is
    if any(a.node_wwn.lower() == initiator.lower() for a in tpg.node_acls):
        return
    acl = rtslib_fb.NodeACL(tpg, initiator, mode='create')
    acl.chap_userid = userid
    acl.chap_password = password
    rtslib_fb.MappedLUN(acl, 0, tpg_lun=0)


def save():
    # cinder only warns when the save fails
    try:
        rtslib_fb.root.RTSRoot().save_to_file()
    except (OSError, rtslib_fb.utils.RTSLibError) as e:
        print('warning: saving the target configuration failed: %s' % e, file=sys.stderr)


def main(argv):
    if argv[1] == 'create':
        args, ips, port = [], None, 3260
        rest = iter(argv[2:])
        for a in rest:
            if a == '-a':
                ips = next(rest).split(',')
            elif a == '-p':
                port = int(next(rest))
            else:
                args.append(a)
        device, name, userid, password, iser = args[:5]
        initiators = args[5] if len(args) > 5 else None
        create(device, name, userid, password, iser, initiators, ips, port)
    elif argv[1] == 'add-initiator':
        add_initiator(*argv[2:6])
    elif argv[1] == 'save':
        save()
    else:
        sys.exit('usage: see the docstring')


if __name__ == '__main__':
    main(sys.argv)
