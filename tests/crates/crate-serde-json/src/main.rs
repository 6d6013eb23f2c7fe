//! serde_json with floating point: numbers parsed and printed back (shortest round-trip form of
//! IEEE 754 binary64), arithmetic on parsed values, and a document printed exactly.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

use serde_json::Value;

/// Parses `text` as one JSON number and prints it back.
fn reprint(text: &str) -> alloc::string::String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string(&v).unwrap_or_else(|e| alloc::format!("error: {e}")),
        Err(e) => alloc::format!("error: {e}"),
    }
}

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    c.text(
        "serde_json 3.141592653589793",
        &reprint("3.141592653589793"),
        "3.141592653589793",
    );
    c.text("serde_json 1e-7", &reprint("1e-7"), "1e-7");
    c.text("serde_json 2.5e300", &reprint("2.5e300"), "2.5e+300");
    c.text("serde_json -0.0", &reprint("-0.0"), "-0.0");
    c.text(
        "serde_json 18446744073709551615",
        &reprint("18446744073709551615"),
        "18446744073709551615",
    );
    let sum: Value = serde_json::from_str("[0.1, 0.2]").map_err(|e| alloc::format!("{e}"))?;
    let (a, b) = (
        sum[0].as_f64().unwrap_or(0.0),
        sum[1].as_f64().unwrap_or(0.0),
    );
    // 0.1 + 0.2 in binary64 is 0x3fd3333333333334, printed 0.30000000000000004.
    c.text(
        "serde_json 0.1+0.2",
        &serde_json::to_string(&(a + b)).unwrap_or_default(),
        "0.30000000000000004",
    );
    c.text(
        "serde_json 0.1+0.2 bits",
        &alloc::format!("{:#x}", (a + b).to_bits()),
        "0x3fd3333333333334",
    );
    let doc =
        r#"{"name":"Morgana","pi":3.141592653589793,"list":[1,-2,0.5,1e-7],"ok":true,"none":null}"#;
    let parsed: Value = serde_json::from_str(doc).map_err(|e| alloc::format!("{e}"))?;
    // Without the preserve_order feature, objects print their keys sorted.
    c.text(
        "serde_json document",
        &serde_json::to_string(&parsed).unwrap_or_default(),
        r#"{"list":[1,-2,0.5,1e-7],"name":"Morgana","none":null,"ok":true,"pi":3.141592653589793}"#,
    );
    c.finish()
}
