//! Structures that evict by subtraction accept only abelian groups: `Max` must not compile.

#[test]
fn max_is_rejected_by_subtract_on_evict() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/soe_max.rs");
    t.compile_fail("tests/ui/soe_fifo_max.rs");
}
