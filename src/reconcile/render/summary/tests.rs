use super::*;

#[test]
fn counts_read_as_terraforms_summary() {
    let c = Counts {
        create: 3,
        grow: 1,
        delete: 2,
        change: 0,
        refused: 1,
    };
    assert_eq!(
        c.to_string(),
        "3 to create, 1 to grow, 2 to delete, 1 refused"
    );
    assert_eq!(Counts::default().to_string(), "nothing to do");
    assert_eq!(
        (c + Counts {
            change: 2,
            ..Counts::default()
        })
        .to_string(),
        "3 to create, 1 to grow, 2 to delete, 2 to tag or activate, 1 refused"
    );
}
