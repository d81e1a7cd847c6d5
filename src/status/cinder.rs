//! What cinder calls a backend and its capacity, in `ember status`: its host (`host@backend`),
//! its pool as the scheduler names it (`host@backend#pool`), and its over-subscription ratio,
//! computed when cinder.conf says `auto`.

use super::{BackendStatus, Capacity, DesiredStatus, WorkerState};
use crate::config::BackendConfig;

impl BackendStatus {
    /// A backend whose worker is starting.
    pub fn starting(cfg: &BackendConfig) -> BackendStatus {
        let mut b = BackendStatus {
            name: cfg.name.clone(),
            volume_group: String::new(),
            cinder_host: String::new(),
            volume_backend_name: String::new(),
            cinder_pool: String::new(),
            pid: None,
            state: WorkerState::Starting,
            restarts: 0,
            last_pass: None,
            desired_state_problems: vec![],
            capacity: None,
            busy: None,
            desired_state: DesiredStatus::InForce,
            pool: None,
            progress: None,
            counters: Default::default(),
            volumes: None,
            exports: None,
        };
        b.configured(cfg);
        b
    }

    /// What the backend's options say of it (at start, and when they change).
    pub fn configured(&mut self, cfg: &BackendConfig) {
        self.volume_group = cfg.volume_group.clone();
        self.cinder_host = cfg.host.clone();
        self.volume_backend_name = cfg.volume_backend_name.clone();
        // cinder's volume_utils.append_host: `host#pool`; the LVM driver's one pool is named
        // after volume_backend_name
        self.cinder_pool = format!("{}#{}", cfg.host, cfg.volume_backend_name);
    }
}

impl Capacity {
    /// `10.00`, or `auto (computed: 3.42)`.
    pub fn ratio_text(&self) -> String {
        let r = self.max_over_subscription_ratio;
        if self.max_over_subscription_ratio_auto {
            format!("auto (computed: {r:.2})")
        } else {
            format!("{r:.2}")
        }
    }
}
