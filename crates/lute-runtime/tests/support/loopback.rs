//! A second link implementation, for tests: every message is encoded into a `lute-layout` data
//! frame (header with CRC-32C; records as postcard bytes) on send and decoded on receipt, over
//! an in-process SPSC ring of byte buffers. It proves the link-factory seam: a job must give
//! the same output over these links as over the default SPSC rings. Only record types
//! registered with [`Loopback::carry`] can be carried (the encoding bound is on this
//! implementation only); any other type is refused with `LinkError::Unsupported`.

#![allow(dead_code)]

use lute_core::{CheckpointId, LinkError};
use lute_layout::{Frame, FrameBuilder, Kind, Limits, SchemaId};
use lute_runtime::EventTime;
use lute_runtime::exchange::link::spsc_pair;
use lute_runtime::exchange::{
    Chunk, Endpoints, Inlet, LinkFactory, LinkId, LinkSpec, Message, Outlet,
};
use lute_sync::{PopError, PushError, spsc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The schema id written into every frame of these links.
const SCHEMA: SchemaId = SchemaId {
    fingerprint: 0x4C55_5445_4C4F_4F50,
    version: 1,
};

/// The first record of a frame: what the message is.
#[derive(serde::Serialize, serde::Deserialize)]
enum Head {
    Data,
    Watermark(EventTime),
    Barrier(u64),
    Idle,
    End,
}

type Make = Box<dyn Fn(&LinkSpec, Arc<AtomicU64>) -> Result<Endpoints, LinkError> + Send + Sync>;

/// The loopback link factory (see the module docs).
#[derive(Default)]
pub struct Loopback {
    types: HashMap<TypeId, Make>,
    /// Frames sent over every link so far.
    pub frames: Arc<AtomicU64>,
}

impl Loopback {
    /// A factory that carries no type yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets the factory carry records of `T`.
    pub fn carry<T: Serialize + DeserializeOwned + Send + 'static>(mut self) -> Self {
        self.types.insert(
            TypeId::of::<T>(),
            Box::new(|spec: &LinkSpec, frames| {
                let (tx, rx) =
                    spsc::channel::<Vec<u8>>(spec.capacity).map_err(|e| LinkError::Capacity {
                        capacity: spec.capacity,
                        reason: e.to_string(),
                    })?;
                Ok(Endpoints::new::<T>(
                    Box::new(Encoder {
                        id: spec.id,
                        tx,
                        frames,
                        _t: std::marker::PhantomData,
                    }),
                    Box::new(Decoder {
                        id: spec.id,
                        rx,
                        _t: std::marker::PhantomData,
                    }),
                ))
            }),
        );
        self
    }
}

impl LinkFactory for Loopback {
    fn name(&self) -> &str {
        "loopback, lute-layout frames"
    }

    fn link(
        &self,
        spec: &LinkSpec,
        _in_process: &dyn Fn() -> Result<Endpoints, LinkError>,
    ) -> Result<Endpoints, LinkError> {
        match self.types.get(&spec.type_id) {
            Some(make) => make(spec, self.frames.clone()),
            None => Err(LinkError::Unsupported {
                edge: spec.id.edge,
                factory: self.name().to_owned(),
                type_name: spec.type_name,
            }),
        }
    }
}

/// The in-process pair, for comparison (keeps `spsc_pair` exercised from outside the crate).
pub fn in_process<T: Send + 'static>(spec: &LinkSpec) -> Result<Endpoints, LinkError> {
    spsc_pair::<T>(spec)
}

struct Encoder<T> {
    id: LinkId,
    tx: spsc::Producer<Vec<u8>>,
    frames: Arc<AtomicU64>,
    _t: std::marker::PhantomData<fn(T)>,
}

fn encode<T: Serialize>(m: &Message<T>) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut f = FrameBuilder::new(&mut buf, Kind::Data, SCHEMA);
    let head = match m {
        Message::Data(_) => Head::Data,
        Message::Watermark(w) => Head::Watermark(*w),
        Message::Barrier(n) => Head::Barrier(n.0),
        Message::Idle => Head::Idle,
        Message::End => Head::End,
    };
    f.push_record(&postcard::to_allocvec(&head).expect("a head encodes"))
        .expect("a head fits a frame");
    if let Message::Data(chunk) = m {
        for r in chunk.iter() {
            f.push_record(&postcard::to_allocvec(r).expect("the record type encodes"))
                .expect("a record fits a frame");
        }
    }
    f.finish().expect("the frame is within the limits");
    buf
}

impl<T: Serialize + Send + 'static> Outlet<Message<T>> for Encoder<T> {
    fn try_send(&mut self, m: Message<T>) -> Result<(), PushError<Message<T>>> {
        let bytes = encode(&m);
        match self.tx.try_push(bytes) {
            Ok(()) => {
                // Relaxed: a test counter, read after the job.
                self.frames.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(PushError::Full(_)) => Err(PushError::Full(m)),
            Err(PushError::Disconnected(_)) => {
                let _ = self.id;
                Err(PushError::Disconnected(m))
            }
        }
    }
}

struct Decoder<T> {
    id: LinkId,
    rx: spsc::Consumer<Vec<u8>>,
    _t: std::marker::PhantomData<fn() -> T>,
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Message<T> {
    let (frame, rest) = Frame::decode(bytes, &Limits::default()).expect("a valid frame");
    assert!(rest.is_empty(), "one frame per message");
    assert_eq!(frame.schema_id(), SCHEMA);
    let mut records = frame.records();
    let head: Head =
        postcard::from_bytes(records.next().expect("a head").expect("a whole head")).unwrap();
    match head {
        Head::Data => {
            let v: Vec<(EventTime, T)> = records
                .map(|r| postcard::from_bytes(r.expect("a whole record")).expect("decodes"))
                .collect();
            Message::Data(Chunk::from_vec(v))
        }
        Head::Watermark(w) => Message::Watermark(w),
        Head::Barrier(n) => Message::Barrier(CheckpointId(n)),
        Head::Idle => Message::Idle,
        Head::End => Message::End,
    }
}

impl<T: DeserializeOwned + Send + 'static> Inlet<Message<T>> for Decoder<T> {
    fn try_recv(&mut self) -> Result<Message<T>, PopError> {
        let _ = self.id;
        self.rx.try_pop().map(|b| decode(&b))
    }
}
