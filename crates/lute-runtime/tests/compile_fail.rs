//! Type errors in a job graph are compile errors, not run-time surprises: a union of
//! different record types, a join whose sides have different key types, an operator whose
//! input type does not match its upstream (after an exchange, an L3 stage boundary).

#[test]
fn graph_type_errors_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/union_type_mismatch.rs");
    t.compile_fail("tests/ui/join_key_mismatch.rs");
    t.compile_fail("tests/ui/operator_input_mismatch.rs");
}
