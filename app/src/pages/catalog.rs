//! The product catalog (`/catalog`) the AI sales agent sells from: products with
//! create, edit, deactivate/reactivate, and a CSV import that takes every line or none.
//! The domain checks every value; its refusal names the field, shown next to it.

use api::shop::ProductView;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::ErrorPanel;

/// The columns of the CSV import, in order.
pub const CSV_HEADER: &str = "name,description,price,currency,stock";

#[server]
pub async fn load_catalog() -> Result<Vec<ProductView>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().meta().products().await?)
    })
    .await
}

#[server]
pub async fn create_product(
    name: String,
    description: String,
    price: String,
    currency: String,
    stock: String,
) -> Result<Uuid, AppError> {
    use domain::meta::catalog::NewProduct;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let new = NewProduct::parse(&name, &description, &price, &currency, &stock)?;
        Ok(ctx.scope().meta().create_product(&new).await?)
    })
    .await
}

/// Saves an edited product; `active` is what the product was when the form opened.
#[server]
pub async fn update_product(
    product_id: Uuid,
    name: String,
    description: String,
    price: String,
    currency: String,
    stock: String,
    active: bool,
) -> Result<(), AppError> {
    use domain::meta::catalog::NewProduct;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let new = NewProduct::parse(&name, &description, &price, &currency, &stock)?;
        Ok(ctx
            .scope()
            .meta()
            .update_product(product_id, &new, active)
            .await?)
    })
    .await
}

#[server]
pub async fn set_product_active(product_id: Uuid, active: bool) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .meta()
            .set_product_active(product_id, active)
            .await?)
    })
    .await
}

/// Imports `name,description,price,currency,stock` lines; returns how many.
#[server]
pub async fn import_products(csv: String) -> Result<usize, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().meta().import_products(&csv).await?)
    })
    .await
}

/// The form fields the domain names in its refusals.
const FIELDS: [&str; 4] = ["name", "price", "currency", "stock"];

/// The refusal of the form's last submit, when it is about `field`.
fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field() == Some(field)).map(|e| {
            view! { <span class="field-error" role="alert" data-field=field>{e.user_message()}</span> }
        })
    }
}

/// A refusal no field of the form shows (not found, our failure).
fn form_error(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !e.field().is_some_and(|f| FIELDS.contains(&f)))
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    }
}

/// The product fields, filled with `product`'s values when editing.
#[component]
fn ProductFields(product: Option<ProductView>, error: Signal<Option<AppError>>) -> impl IntoView {
    let value = |f: fn(&ProductView) -> String| product.as_ref().map(f).unwrap_or_default();
    let invalid = move |field: &'static str| {
        move || {
            error
                .get()
                .is_some_and(|e| e.field() == Some(field))
                .to_string()
        }
    };
    view! {
        <label>
            "Name"
            <input name="name" required maxlength="200" value=value(|p| p.name.clone()) aria-invalid=invalid("name")/>
            {field_error(error, "name")}
        </label>
        <label class="grow">
            "Description"
            <input name="description" value=value(|p| p.description.clone())/>
        </label>
        <label>
            "Price"
            <input name="price" inputmode="decimal" placeholder="12.50" required
                value=value(|p| api::shop::format_price(p.price_cents)) aria-invalid=invalid("price")/>
            {field_error(error, "price")}
        </label>
        <label>
            "Currency"
            <input name="currency" maxlength="3" size="4" required
                value=product.as_ref().map_or_else(|| "EUR".to_owned(), |p| p.currency.clone())
                aria-invalid=invalid("currency")/>
            {field_error(error, "currency")}
        </label>
        <label>
            "Stock"
            <input name="stock" inputmode="numeric" size="6" required
                value=product.as_ref().map_or_else(|| "0".to_owned(), |p| p.stock.to_string())
                aria-invalid=invalid("stock")/>
            {field_error(error, "stock")}
        </label>
    }
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let create = ServerAction::<CreateProduct>::new();
    let update = ServerAction::<UpdateProduct>::new();
    let activate = ServerAction::<SetProductActive>::new();
    let import = ServerAction::<ImportProducts>::new();
    // Edits saved: a refused edit reloads nothing, so its row keeps what the user typed.
    let saved = RwSignal::new(0_u32);
    let products = Resource::new(
        move || {
            (
                create.version().get(),
                saved.get(),
                activate.version().get(),
                import.version().get(),
            )
        },
        |_| load_catalog(),
    );
    // The product being edited in its row.
    let editing = RwSignal::new(None::<Uuid>);
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(()))) {
            editing.set(None);
            saved.update(|n| *n += 1);
        }
    });
    // A saved product empties the form for the next one.
    let new_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(form) = new_form.get()
        {
            form.reset();
        }
    });
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let created = move || {
        matches!(create.value().get(), Some(Ok(_)))
            .then(|| view! { <p class="notice" role="status">"Product added."</p> })
    };
    let activate_error = move || {
        activate
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <Title text="Catalog"/>
        <section class="page">
            <header class="page-header">
                <h1>"Catalog"</h1>
                <a href="/orders">"Orders"</a>
            </header>
            <p class="muted">
                "The AI sales agent offers the active products to customers on Messenger and Instagram, "
                "and takes orders within their stock. Connect a Page in "
                <a href="/settings/channels#connect-meta">"Settings → Channels"</a> "."
            </p>
            <section class="card" aria-labelledby="new-product-heading">
                <h2 id="new-product-heading">"New product"</h2>
                <ActionForm action=create node_ref=new_form attr:class="inline-form product-form" attr:id="new-product">
                    <ProductFields product=None error=create_error/>
                    <button class="button primary" type="submit" disabled=move || create.pending().get()>
                        "Add product"
                    </button>
                </ActionForm>
                {form_error(create_error)}
                {created}
            </section>
            <CsvImport import/>
            {activate_error}
            <Transition fallback=|| view! { <p class="muted">"Loading the catalog…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        products.await.map(|products| view! { <ProductTable products editing update activate/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn CsvImport(import: ServerAction<ImportProducts>) -> impl IntoView {
    let csv = RwSignal::new(String::new());
    let outcome = move || {
        import.value().get().map(|result| match result {
            Ok(n) => view! {
                <p class="notice" role="status">
                    {format!("Imported {n} product{}.", if n == 1 { "" } else { "s" })}
                </p>
            }
            .into_any(),
            Err(e) => view! {
                <p class="form-error" role="alert">{e.user_message()} " Nothing was imported."</p>
            }
            .into_any(),
        })
    };
    view! {
        <section class="card" aria-labelledby="import-products-heading">
            <h2 id="import-products-heading">"Import from CSV"</h2>
            <p class="muted">
                "One product per line: " <code>{CSV_HEADER}</code>
                ". A header line is allowed; quote a field that holds a comma. Every line is imported, "
                "or none when one is wrong."
            </p>
            <ActionForm action=import attr:class="csv-import">
                <label>
                    "CSV file"
                    <input
                        type="file"
                        accept=".csv,text/csv,text/plain"
                        on:change=move |ev| browser::read_file(&ev, csv)
                    />
                </label>
                <label>
                    "Or paste the lines"
                    <textarea
                        name="csv"
                        rows="5"
                        required
                        placeholder=format!("{CSV_HEADER}\nMug,Stoneware 350 ml,12.50,EUR,20")
                        prop:value=move || csv.get()
                        on:input=move |ev| csv.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <button class="button" type="submit" disabled=move || import.pending().get()>"Import"</button>
            </ActionForm>
            {outcome}
        </section>
    }
}

#[component]
fn ProductTable(
    products: Vec<ProductView>,
    editing: RwSignal<Option<Uuid>>,
    update: ServerAction<UpdateProduct>,
    activate: ServerAction<SetProductActive>,
) -> impl IntoView {
    if products.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"No products yet"</h2>
                <p>"Add a product above, or import a CSV of them."</p>
            </div>
        }
        .into_any();
    }
    let update_error = Signal::derive(move || update.value().get().and_then(Result::err));
    let rows = products
        .into_iter()
        .map(|p| {
            let id = p.id;
            let status = if p.active { "active" } else { "inactive" };
            let row = view! {
                <tr data-product-id=id.to_string() class=if p.active { "product" } else { "product inactive" }>
                    <td class="product-name">{p.name.clone()}</td>
                    <td>{p.description.clone()}</td>
                    <td class="num">{p.price()}</td>
                    <td class="num product-stock">{p.stock}</td>
                    <td><span class=format!("badge product-{status}")>{status}</span></td>
                    <td class="row-actions">
                        <button class="button" type="button" on:click=move |_| {
                            // A refusal of another row's edit is not this one's.
                            update.value().set(None);
                            editing.set(Some(id));
                        }>"Edit"</button>
                        <ActionForm action=activate attr:class="inline-form">
                            <input type="hidden" name="product_id" value=id.to_string()/>
                            <input type="hidden" name="active" value=(!p.active).to_string()/>
                            <button class="button" type="submit">{if p.active { "Deactivate" } else { "Reactivate" }}</button>
                        </ActionForm>
                    </td>
                </tr>
            };
            let product = p.clone();
            let edit = move || {
                (editing.get() == Some(id)).then(|| {
                    let product = product.clone();
                    let label = format!("Edit {}", product.name);
                    let active = product.active.to_string();
                    view! {
                        <tr class="edit-row">
                            <td colspan="6">
                                <ActionForm action=update attr:class="inline-form product-form" attr:aria-label=label>
                                    <input type="hidden" name="product_id" value=id.to_string()/>
                                    <input type="hidden" name="active" value=active/>
                                    <ProductFields product=Some(product) error=update_error/>
                                    <button class="button primary" type="submit">"Save"</button>
                                    <button class="button" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                                </ActionForm>
                                {form_error(update_error)}
                            </td>
                        </tr>
                    }
                })
            };
            view! { {row} {edit} }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
        <table class="shop products">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Stock"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
    }
    .into_any()
}

/// Reads a chosen CSV file into the text area, so the user sees what will be imported.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::HtmlInputElement;

    pub fn read_file(ev: &web_sys::Event, csv: RwSignal<String>) {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        let loaded = Closure::once(move |text: wasm_bindgen::JsValue| {
            if let Some(text) = text.as_string() {
                csv.set(text);
            }
        });
        // The promise holds the closure until it settles.
        let _ = file.text().then(&loaded);
        loaded.forget();
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use leptos::prelude::*;

    /// Files are read in the browser only; the server never renders a change.
    pub fn read_file(_: &leptos::ev::Event, _: RwSignal<String>) {}
}
