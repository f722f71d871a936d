// Max has no inverse, so subtract-on-evict must refuse it at compile time.
use lute_window::ops::Max;
use lute_window::SoeRing;

fn main() {
    let _ = SoeRing::new(Max::<i64>::new(), 16, 1);
}
