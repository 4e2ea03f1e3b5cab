//! Sessions and refusals on the pages: the sign-in page and its cookie (strict, HTTP-only,
//! secure when configured), cross-site sign-ins, forms without the right CSRF value, and hostile
//! input escaped everywhere. Refusals write nothing.

use changegate_core::ChangeId;

use super::{change_input, new_change_fields, pci_payments_api, spawn_with_pci_payments};
use crate::helpers::TestApp;

#[test]
fn sign_in_page_and_bad_tokens_write_nothing() {
    let app = spawn_with_pci_payments();
    let mut client = app.client();
    let page = client.get("/login");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"name="token""#), "{}", page.text);
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")));

    let before = app.event_count();
    let fake = format!("cg_{}", "0".repeat(64));
    for token in [fake.as_str(), "garbage", ""] {
        let reply = client.post("/login", &[("token", token)]);
        assert_eq!(reply.status, 401, "token {token:?}");
        assert!(reply.header("set-cookie").is_none());
        assert!(reply.text.contains(r#"id="login-error""#), "{}", reply.text);
        assert!(!reply.text.contains(&fake), "a refused token is never echoed");
    }
    assert!(client.post("/login", &[("token", &fake)]).text.contains("not accepted"));
    assert_eq!(app.event_count(), before, "refused sign-ins write nothing");

    // Pages need a session; a GET comes back to where it was going.
    let reply = client.get("/");
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login");
    let reply = client.get("/changes/CHG-000001");
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login?next=%2Fchanges%2FCHG-000001");
    // A stale cookie is refused and dropped.
    client.cookie = Some(format!("changegate_session={fake}"));
    let reply = client.get("/services");
    assert_eq!(reply.location(), "/login?next=%2Fservices");
    assert!(reply.header("set-cookie").is_some_and(|cookie| cookie.contains("Max-Age=0")));
    assert_eq!(app.event_count(), before);
}

#[test]
fn signing_in_sets_a_strict_http_only_session_cookie() {
    let app = spawn_with_pci_payments();
    let mut client = app.client();
    let reply = client.post("/login", &[("token", &app.alice.token)]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/");
    let cookie = reply.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with(&format!("changegate_session={};", app.alice.token)), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.split("; ").any(|part| part == attribute), "{attribute} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag ({cookie})");

    let dashboard = client.get("/");
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.text.contains(r#"<span class="who-name" id="who-name">alice</span>"#));
    assert!(dashboard.text.contains(r#"<span class="role">requester</span>"#));
    assert_eq!(dashboard.header("cache-control"), Some("no-store"));
    let csrf = dashboard.csrf();
    assert_eq!(csrf, changegate_server::web::csrf_token(&app.alice.token));

    // Signed in, the sign-in page sends you on.
    assert_eq!(client.get("/login?next=/services").location(), "/services");

    // Signing out needs the CSRF value too; then the cookie is cleared.
    let refused = client.post("/logout", &[]);
    assert_eq!(refused.status, 403);
    assert!(refused.header("set-cookie").is_none());
    let reply = client.post("/logout", &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login");
    assert!(reply.header("set-cookie").is_some_and(|cookie| {
        cookie.starts_with("changegate_session=;") && cookie.contains("Max-Age=0") && cookie.contains("HttpOnly")
    }));
    assert!(client.cookie.is_none());
    assert_eq!(client.get("/").status, 303);

    // `next` brings the user back, but only to a page of this site.
    let mut client = app.client();
    let reply = client.post("/login", &[("token", &app.bob.token), ("next", "/changes?state=assessed")]);
    assert_eq!(reply.location(), "/changes?state=assessed");
    let mut client = app.client();
    let reply = client.post("/login", &[("token", &app.bob.token), ("next", "//evil.example/x")]);
    assert_eq!(reply.location(), "/");
}

#[test]
fn secure_cookies_when_configured() {
    let app = TestApp::builder().service(pci_payments_api()).secure_cookies(true).spawn();
    let reply = app.client().post("/login", &[("token", &app.alice.token)]);
    assert_eq!(reply.status, 303);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.split("; ").any(|part| part == "Secure"), "{cookie}");
}

#[test]
fn cross_site_sign_in_is_refused() {
    let app = spawn_with_pci_payments();
    let mut client = app.client();
    let reply = client.post_with("/login", &[("token", &app.alice.token)], &[("origin", "https://evil.example")]);
    assert_eq!(reply.status, 403);
    assert!(reply.header("set-cookie").is_none());
    assert!(reply.text.contains("another site"), "{}", reply.text);
    let reply = client.post_with("/login", &[("token", &app.alice.token)], &[("origin", "null")]);
    assert_eq!(reply.status, 403);
    let own_origin = app.address.clone();
    let reply = client.post_with("/login", &[("token", &app.alice.token)], &[("origin", &own_origin)]);
    assert_eq!(reply.status, 303);
    assert!(reply.header("set-cookie").is_some());
}

#[test]
fn forms_without_the_right_csrf_value_are_refused_and_write_nothing() {
    let app = spawn_with_pci_payments();
    let id = app.create_change(&app.alice, change_input("Existing change"));
    let mut alice = app.signed_in(&app.alice);
    let bobs_csrf = changegate_server::web::csrf_token(&app.bob.token);
    let before = app.event_count();

    let mut fields = new_change_fields("", "Forged change");
    fields.retain(|(name, _)| *name != "csrf");
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 403, "no csrf field");
    assert!(reply.text.contains("nothing was done"), "{}", reply.text);
    for wrong in ["", "deadbeef", bobs_csrf.as_str()] {
        let reply = alice.post("/changes", &new_change_fields(wrong, "Forged change"));
        assert_eq!(reply.status, 403, "csrf {wrong:?}");
    }
    let path = format!("/changes/{id}/actions/submit");
    assert_eq!(alice.post(&path, &[("comment", "forged")]).status, 403);
    assert_eq!(alice.post(&path, &[("csrf", &bobs_csrf)]).status, 403);

    assert_eq!(app.event_count(), before, "refused forms write nothing");
    assert_eq!(app.change(id).state.as_str(), "draft");
    assert!(app.block_on(app.store().change(ChangeId::new(2))).unwrap().is_none());

    // Without a session at all, a POST goes to the sign-in page.
    let reply = app.client().post("/changes", &new_change_fields(&bobs_csrf, "Anonymous"));
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login");
    assert_eq!(app.event_count(), before);
}

#[test]
fn hostile_input_is_escaped_everywhere() {
    let app = spawn_with_pci_payments();
    let mut alice = app.signed_in(&app.alice);
    let csrf = alice.get("/changes/new").csrf();
    let hostile = "<script>alert(1)</script>";
    let mut fields = new_change_fields(&csrf, hostile);
    fields.retain(|(name, _)| *name != "links" && *name != "description");
    fields.push(("description", r#"<img src=x onerror="alert(2)">"#));
    // A `javascript:` link is refused outright (it used to be stored and shown as text).
    let before = app.event_count();
    let mut scripted = fields.clone();
    scripted.push(("links", "javascript:alert(3)"));
    let reply = alice.post("/changes", &scripted);
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(reply.text.contains("`javascript:` links are refused"), "{}", reply.text);
    assert_eq!(app.event_count(), before, "a refused link writes nothing");
    // A reference that is not an address is shown as text, escaped.
    fields.push(("links", "PROJ-<b>3"));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 303, "{}", reply.text);
    let location = reply.location().to_owned();

    for path in [location.as_str(), "/changes", "/"] {
        let page = alice.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.text.contains("<script>alert(1)"), "{path} carries the raw script:\n{}", page.text);
        assert!(!page.text.contains("<img src=x"), "{path}");
        assert!(page.text.contains("&lt;script&gt;alert(1)"), "{path} shows the escaped title:\n{}", page.text);
    }
    let page = alice.get(&location);
    assert!(page.text.contains("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"));
    assert!(!page.text.contains("<b>3"), "the reference is escaped");
    assert!(page.text.contains(r#"<span class="mono">PROJ-&lt;b&gt;3</span>"#), "{}", page.text);

    // A hostile title also stays escaped in the form re-rendered after a validation error.
    let mut fields = new_change_fields(&csrf, hostile);
    fields.retain(|(name, _)| *name != "service");
    fields.push(("service", "no-such-service"));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 422);
    assert!(!reply.text.contains("<script>alert(1)"));
    assert!(reply.text.contains("&lt;script&gt;alert(1)"));
}
