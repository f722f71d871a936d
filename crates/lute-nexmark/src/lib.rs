//! Nexmark on NacreousLute: the benchmark's auction model as slim in-memory events
//! ([`event`]), and queries Q1, Q2 and Q5 both as runtime jobs and as single-threaded plain
//! loops ([`query`]), so every run is checked against, and timed beside, the loop.
//!
//! The `lute nexmark` command (crate `lute-cli`) runs them; background, peers and the numbers
//! to beat: `../shared/reference/nexmark.md`.
//!
//! # Examples
//!
//! ```
//! use lute_nexmark::{event, query::{self, Query}};
//! use lute_runtime::{Config, VecSource};
//! let events = event::generate(20_000, 1);
//! let expected = query::reference(Query::Q5, &events);
//! let (got, _metrics) =
//!     query::run(Query::Q5, &VecSource::new(events), &Config::default().workers(2)).unwrap();
//! assert_eq!(got, expected);
//! ```

pub mod event;
pub mod query;
