//! Dropping (or choosing) files onto a contact. Each file goes in its own request
//! (`POST /api/contacts/{id}/files`), all at once, through `XMLHttpRequest` because its
//! `upload.onprogress` reports the bytes actually sent, which `fetch` cannot; each file
//! has its own progress bar and its own outcome (a refused file does not stop the rest).

use leptos::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct UploadProgress {
    pub key: u64,
    pub name: String,
    pub sent: f64,
    pub total: f64,
    pub outcome: Option<Result<(), String>>,
}

impl UploadProgress {
    fn percent(&self) -> u32 {
        if self.total <= 0.0 {
            return if self.outcome.is_some() { 100 } else { 0 };
        }
        ((self.sent / self.total) * 100.0).clamp(0.0, 100.0) as u32
    }
}

#[component]
pub fn FileDrop<F>(
    /// Whose timeline the files go to; nothing can be dropped while it is `None`.
    contact: Signal<Option<Uuid>>,
    /// Called after each file is stored.
    on_uploaded: F,
) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let uploads = RwSignal::new(Vec::<UploadProgress>::new());
    let hovering = RwSignal::new(false);
    let rows = move || {
        uploads
            .get()
            .into_iter()
            .map(|u| {
                let percent = u.percent();
                let (class, status) = match &u.outcome {
                    None => ("upload uploading", format!("{percent}%")),
                    Some(Ok(())) => ("upload done", "uploaded".to_owned()),
                    Some(Err(e)) => ("upload failed", e.clone()),
                };
                view! {
                    <li class=class data-file-name=u.name.clone()>
                        <span class="upload-name">{u.name.clone()}</span>
                        <progress max="100" value=percent.to_string()></progress>
                        <span class="upload-status" role="status">{status}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div
            class=move || if hovering.get() { "file-drop hovering" } else { "file-drop" }
            data-testid="file-drop"
            on:dragover=move |ev| {
                ev.prevent_default();
                hovering.set(true);
            }
            on:dragleave=move |_| hovering.set(false)
            on:drop=move |ev| {
                ev.prevent_default();
                hovering.set(false);
                if let Some(contact) = contact.get_untracked() {
                    browser::upload_dropped(&ev, contact, uploads, on_uploaded);
                }
            }
        >
            <label>
                <span>"Drop files here or "</span>
                <span class="link">"choose files"</span>
                <input
                    type="file"
                    multiple
                    data-testid="file-input"
                    class="visually-hidden"
                    disabled=move || contact.get().is_none()
                    on:change=move |ev| {
                        if let Some(contact) = contact.get_untracked() {
                            browser::upload_chosen(&ev, contact, uploads, on_uploaded);
                        }
                    }
                />
            </label>
            <span class="muted">" · up to 50 MB each"</span>
            <ul class="uploads">{rows}</ul>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use uuid::Uuid;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{File, FileList, FormData, HtmlInputElement, ProgressEvent, XmlHttpRequest};

    use super::UploadProgress;

    pub fn upload_dropped(
        ev: &web_sys::DragEvent,
        contact: Uuid,
        uploads: RwSignal<Vec<UploadProgress>>,
        on_uploaded: impl Fn() + Copy + 'static,
    ) {
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            upload_all(&files, contact, uploads, on_uploaded);
        }
    }

    pub fn upload_chosen(
        ev: &web_sys::Event,
        contact: Uuid,
        uploads: RwSignal<Vec<UploadProgress>>,
        on_uploaded: impl Fn() + Copy + 'static,
    ) {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(files) = input.files() {
            upload_all(&files, contact, uploads, on_uploaded);
        }
        // Choosing the same files again should upload them again.
        input.set_value("");
    }

    fn upload_all(
        files: &FileList,
        contact: Uuid,
        uploads: RwSignal<Vec<UploadProgress>>,
        on_uploaded: impl Fn() + Copy + 'static,
    ) {
        for index in 0..files.length() {
            if let Some(file) = files.get(index) {
                upload_one(file, contact, uploads, on_uploaded);
            }
        }
    }

    fn upload_one(
        file: File,
        contact: Uuid,
        uploads: RwSignal<Vec<UploadProgress>>,
        on_uploaded: impl Fn() + Copy + 'static,
    ) {
        let key = js_sys_now_key();
        uploads.update(|list| {
            list.push(UploadProgress {
                key,
                name: file.name(),
                sent: 0.0,
                total: file.size(),
                outcome: None,
            })
        });
        send(file, contact, key, uploads, on_uploaded);
    }

    /// Posts `file`; a 429 (the user's uploads in flight are at the server's limit, for
    /// instance when several files are dropped at once) is sent again after the
    /// server's `Retry-After`, so every dropped file arrives.
    fn send(
        file: File,
        contact: Uuid,
        key: u64,
        uploads: RwSignal<Vec<UploadProgress>>,
        on_uploaded: impl Fn() + Copy + 'static,
    ) {
        let set = move |change: &dyn Fn(&mut UploadProgress)| {
            uploads.try_update(|list| {
                if let Some(entry) = list.iter_mut().find(|u| u.key == key) {
                    change(entry);
                }
            });
        };
        let started = (|| {
            let form = FormData::new()?;
            form.append_with_blob_and_filename("file", &file, &file.name())?;
            let request = XmlHttpRequest::new()?;
            request.open("POST", &format!("/api/contacts/{contact}/files"))?;
            let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
                if ev.length_computable() {
                    set(&|u| {
                        u.sent = ev.loaded();
                        u.total = ev.total();
                    });
                }
            });
            request
                .upload()?
                .set_onprogress(Some(progress.as_ref().unchecked_ref()));
            let finished_request = request.clone();
            let file = file.clone();
            let finished = Closure::<dyn FnMut()>::new(move || {
                let status = finished_request.status().unwrap_or(0);
                if status == 201 {
                    set(&|u| {
                        u.sent = u.total;
                        u.outcome = Some(Ok(()));
                    });
                    on_uploaded();
                } else if status == 429 {
                    set(&|u| u.sent = 0.0);
                    let wait = retry_after(&finished_request);
                    let file = file.clone();
                    set_timeout(move || send(file, contact, key, uploads, on_uploaded), wait);
                } else {
                    let message = refusal(&finished_request, status);
                    set(&|u| u.outcome = Some(Err(message.clone())));
                }
            });
            request.set_onloadend(Some(finished.as_ref().unchecked_ref()));
            request.send_with_opt_form_data(Some(&form))?;
            // The request owns nothing of these; they live until the page unloads
            // (a few closures per uploaded file).
            progress.forget();
            finished.forget();
            Ok::<(), wasm_bindgen::JsValue>(())
        })();
        if started.is_err() {
            set(&|u| u.outcome = Some(Err("the upload could not start".into())));
        }
    }

    /// The server's `Retry-After` (seconds), between 1 and 30; 1 when it is missing.
    fn retry_after(request: &XmlHttpRequest) -> std::time::Duration {
        let seconds = request
            .get_response_header("Retry-After")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, 30);
        std::time::Duration::from_secs(seconds)
    }

    /// The server's `{"error": ...}` sentence, or a generic one.
    fn refusal(request: &XmlHttpRequest, status: u16) -> String {
        let text = request.response_text().ok().flatten().unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| match status {
                0 => "the connection was lost".into(),
                413 => "the file is too large".into(),
                _ => format!("upload failed ({status})"),
            })
    }

    /// A key unique within the page: uploads are started one at a time.
    fn js_sys_now_key() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    //! Uploads only run in the browser; the server renders the drop zone.
    use leptos::prelude::*;
    use uuid::Uuid;

    use super::UploadProgress;

    pub fn upload_dropped(
        _: &leptos::ev::DragEvent,
        _: Uuid,
        _: RwSignal<Vec<UploadProgress>>,
        _: impl Fn() + Copy + 'static,
    ) {
    }

    pub fn upload_chosen(
        _: &leptos::ev::Event,
        _: Uuid,
        _: RwSignal<Vec<UploadProgress>>,
        _: impl Fn() + Copy + 'static,
    ) {
    }
}
