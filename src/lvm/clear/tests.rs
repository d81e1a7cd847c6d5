use super::*;

#[test]
fn device_mapper_names_double_each_dash() {
    let vg = VgName::new("cinder-volumes").unwrap();
    let lv = LvName::new("volume-1a-2").unwrap();
    assert_eq!(dm_name(&vg, &lv), "cinder--volumes-volume--1a--2");
}

#[test]
fn zeroes_over_the_first_bytes_with_progress_and_nothing_after() {
    let mut f = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut f, &vec![0xaa; 10 << 20]).unwrap();
    let seen = std::sync::Mutex::new(vec![]);
    let bytes = (CHUNK + 3 * 512) as u64;
    write_zeroes(&f, bytes, None, &AtomicBool::new(false), &|n| {
        seen.lock().unwrap().push(n)
    })
    .unwrap();
    assert_eq!(seen.into_inner().unwrap(), [CHUNK as u64, bytes]);
    let mut back = vec![0u8; 10 << 20];
    f.read_exact_at(&mut back, 0).unwrap();
    assert!(back[..bytes as usize].iter().all(|b| *b == 0));
    assert!(back[bytes as usize..].iter().all(|b| *b == 0xaa));
}

#[test]
fn a_stop_ends_it_between_writes_and_says_the_next_pass_resumes() {
    // (128 writes: the writer must not finish them all before the first progress report
    // sets the stop, on however loaded a machine; the file is sparse, and only what is
    // written before the stop takes space)
    let f = tempfile::tempfile().unwrap();
    f.set_len(512 << 20).unwrap();
    let stop = AtomicBool::new(false);
    let e = write_zeroes(&f, 512 << 20, None, &stop, &|n| {
        if n >= CHUNK as u64 {
            stop.store(true, Ordering::Relaxed)
        }
    })
    .unwrap_err();
    assert!(
        e.contains("interrupted after") && e.contains("ember-clearing"),
        "{e}"
    );
}

#[test]
fn the_writing_thread_takes_the_priority_and_the_caller_keeps_its_own() {
    let get =
        || unsafe { libc::syscall(libc::SYS_ioprio_get, 1 as libc::c_long, 0 as libc::c_long) };
    let before = get();
    let idle = IoPriority {
        value: (3 << 13) | 7,
        ignore_failure: false,
    };
    let theirs = std::thread::spawn(move || set_ioprio(idle).map(|()| get()))
        .join()
        .unwrap();
    match theirs {
        Ok(v) => assert_eq!(v, i64::from(idle.value)),
        // a sandbox that forbids it: the wipe fails, as ionice would
        Err(e) => assert!(e.contains("volume_clear_ionice"), "{e}"),
    }
    assert_eq!(get(), before, "only the wipe's thread changes");
    // a class the kernel refuses (4) fails, unless ionice -t said to ignore that
    let bad = IoPriority {
        value: 4 << 13,
        ignore_failure: false,
    };
    assert!(
        std::thread::spawn(move || set_ioprio(bad))
            .join()
            .unwrap()
            .is_err()
    );
    let tolerated = IoPriority {
        ignore_failure: true,
        ..bad
    };
    assert!(
        std::thread::spawn(move || set_ioprio(tolerated))
            .join()
            .unwrap()
            .is_ok()
    );
}
