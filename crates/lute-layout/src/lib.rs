//! NacreousLute layout crate (being built; see its issue).
