use crate::helpers::{site_root, spawn_app};

/// The asset URLs the page asks the browser to load.
fn pkg_urls(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|part| {
            part.starts_with("/pkg/") && (part.ends_with(".js") || part.ends_with(".wasm"))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_wasm_bundle_is_served_and_the_page_hydrates_in_chromium() {
    assert!(
        site_root().join("pkg").is_dir(),
        "no site at {}: build it first with `make build` (cargo leptos build --release)",
        site_root().display()
    );
    let app = spawn_app().await;
    let (_, html) = app.anonymous.get_html("/login").await;
    let urls = pkg_urls(&html);
    let wasm = urls
        .iter()
        .find(|u| u.ends_with(".wasm"))
        .expect("the page loads a wasm bundle");
    let js = urls
        .iter()
        .find(|u| u.ends_with(".js"))
        .expect("the page loads the JS glue");

    let response = app.anonymous.get(wasm).await;
    assert_eq!(response.status(), 200, "{wasm}");
    assert_eq!(response.headers()["content-type"], "application/wasm");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"\0asm", "a real WebAssembly module");
    assert_eq!(app.anonymous.get(js).await.status(), 200, "{js}");

    // A real browser loads the page; the app marks <body> once hydration ran.
    let profile = tempfile::tempdir().unwrap();
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let output = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{}/login", app.address))
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {chromium}: {e}"));
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("data-hydrated=\"true\""),
        "the page did not hydrate; chromium stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dom.contains("Sign in with Google"));
}
