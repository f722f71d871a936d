// The FIFO subtract-on-evict refuses non-invertible operators too.
use lute_window::ops::Max;
use lute_window::SoeFifo;

fn main() {
    let _ = SoeFifo::new(Max::<i64>::new());
}
