//! NacreousLute window crate (being built; see its issue).
