//! Whole documents in, scenarios out: every generated file parses and compiles as the
//! engine will run it.

use super::*;
use serde_json::json;

pub(crate) fn compile(yaml: &str) -> barrage_engine::Plan {
    let file = barrage_scenario::SourceFile {
        name: "generated.yaml".into(),
        text: placeholder_credentials(yaml),
    };
    let (scenario, _) = barrage_scenario::parse(&file)
        .unwrap_or_else(|d| panic!("{}\n{yaml}", barrage_scenario::render(&file, &d, false)));
    match barrage_engine::compile(&scenario, &file, &Default::default()) {
        Ok((plan, _)) => plan,
        Err(d) => panic!("{}\n{yaml}", barrage_scenario::render(&file, &d, false)),
    }
}

pub(crate) fn items_doc() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "items", "version": "1"},
        "paths": {
            "/items/": {
                "get": {"tags": ["items"], "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
                    {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}
                ], "responses": {"200": {"description": "ok"}}},
                "post": {"tags": ["items"], "security": [{"OAuth2PasswordBearer": []}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemIn"}}}},
                    "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}}
            },
            "/items/{item_id}": {
                "get": {"tags": ["items"], "parameters": [{"name": "item_id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}},
                "delete": {"tags": ["items"], "security": [{"OAuth2PasswordBearer": []}],
                    "parameters": [{"name": "item_id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {"204": {"description": "gone"}}}
            },
            "/users/{name}": {
                "get": {"tags": ["users"], "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z]{3,8}$"}},
                    {"name": "x-request-id", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "session", "in": "cookie", "required": true, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok"}}}
            },
            "/old": {"get": {"deprecated": true, "responses": {"200": {"description": "ok"}}}},
            "/token": {"post": {"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["username", "password"],
                "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": {"description": "ok"}}}}
        },
        "components": {
            "schemas": {
                "ItemIn": {"type": "object", "required": ["name", "price"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 20},
                    "price": {"type": "number", "exclusiveMinimum": 0},
                    "kind": {"enum": ["tool", "toy"]},
                    "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "minItems": 2}
                }},
                "Item": {"allOf": [{"$ref": "#/components/schemas/ItemIn"}, {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}]}
            },
            "securitySchemes": {"OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "token"}}}}
        }
    })
}

fn document(root: Value) -> Document {
    source::parse("openapi.json", &root.to_string()).unwrap()
}

#[test]
fn a_typical_document_gives_a_scenario_that_compiles() {
    let out = generate(&document(items_doc()), &Options::default()).unwrap();
    let yaml = &out.yaml;
    let plan = compile(yaml);
    assert_eq!(plan.scenarios[0].users.len(), 2, "{yaml}");
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    // The read creates an item first and uses its id.
    assert!(yaml.contains("item_id: '$.id'"), "{yaml}");
    assert!(yaml.contains("- get: \"/items/{{ item_id }}\""), "{yaml}");
    // The login is a setup step; the token operation is not a task of its own.
    assert!(yaml.contains("setup:"), "{yaml}");
    assert!(
        yaml.contains("authorization: \"Bearer {{ token }}\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("username: \"{{ env(\\\"OAUTH2_PASSWORD_BEARER_USERNAME\\\") }}\""),
        "{yaml}"
    );
    assert!(!yaml.contains("  post /token:"), "{yaml}");
    // Nothing creates or lists a user: 404 is accepted, with the reason.
    assert!(
        yaml.contains("- 404  # nothing creates or lists {name}"),
        "{yaml}"
    );
    assert!(!yaml.contains("/old"), "deprecated left out: {yaml}");
    assert_eq!(
        out.env,
        [
            "OAUTH2_PASSWORD_BEARER_PASSWORD",
            "OAUTH2_PASSWORD_BEARER_USERNAME"
        ]
    );
}

#[test]
fn weights_and_filters_shape_the_tasks() {
    let opts = Options {
        weights: Weights::parse("get=3").unwrap(),
        selection: Selection {
            include: vec![Filter::parse("items")],
            exclude: vec![Filter::parse("DELETE")],
            include_deprecated: false,
        },
        ..Options::default()
    };
    let out = generate(&document(items_doc()), &opts).unwrap();
    compile(&out.yaml);
    // `GET /items/`'s optional `tag` is sent by a rare second task only; its `limit` (a
    // page size with no default) by neither.
    assert_eq!(out.tasks, 4, "{}", out.yaml);
    assert!(
        out.yaml
            .contains("      get /items/ (optional parameters):\n        weight: 1\n"),
        "{}",
        out.yaml
    );
    assert_eq!(out.yaml.matches("tag: ").count(), 1, "{}", out.yaml);
    assert!(!out.yaml.contains("limit:"), "{}", out.yaml);
    assert!(
        out.yaml.contains("      get /items/:\n        weight: 3\n"),
        "{}",
        out.yaml
    );
    assert!(!out.yaml.contains("delete /items"), "{}", out.yaml);
    let none = Options {
        selection: Selection {
            include: vec![Filter::parse("nothing-like-this")],
            ..Selection::default()
        },
        ..Options::default()
    };
    let e = generate(&document(items_doc()), &none).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--include nothing-like-this: matches no operation of the document"),
        "{e}"
    );
    // A typo is an error with the nearest names, never ignored; one operation can go.
    let typo = |filter: &str| Options {
        selection: Selection {
            exclude: vec![Filter::parse(filter)],
            ..Selection::default()
        },
        ..Options::default()
    };
    let e = generate(&document(items_doc()), &typo("itemz")).unwrap_err();
    assert!(e.to_string().contains("help: did you mean `items`"), "{e}");
    let e = generate(&document(items_doc()), &typo("DELETE /itemz/{item_id}")).unwrap_err();
    assert!(
        e.to_string()
            .contains("did you mean `DELETE /items/{item_id}`"),
        "{e}"
    );
    let out = generate(&document(items_doc()), &typo("delete /items/{item_id}")).unwrap();
    assert!(
        !out.yaml.contains("delete /items/{item_id}:"),
        "{}",
        out.yaml
    );
    assert!(out.yaml.contains("get /items/{item_id}:"), "{}", out.yaml);
}

#[test]
fn an_unsatisfiable_operation_is_written_commented_out() {
    let mut doc = items_doc();
    doc["components"]["schemas"]["ItemIn"]["properties"]["name"] =
        json!({"type": "string", "minLength": 5, "maxLength": 2});
    doc["paths"]["/items/{item_id}"]["get"]["parameters"][0]["schema"] =
        json!({"$ref": "#/components/schemas/Missing"});
    let out = generate(&document(doc), &Options::default()).unwrap();
    compile(&out.yaml);
    // The create and the read (whose parameter's `$ref` leads nowhere) are left out; the
    // delete still runs, with a generated id, since no create can supply one.
    assert_eq!(out.left_out, 2, "{}", out.yaml);
    assert!(out.yaml.contains("# LEFT OUT: /components/schemas/ItemIn/properties/name: minLength 5 is above maxLength 2"), "{}", out.yaml);
    assert!(
        out.yaml.contains("      delete /items/{item_id}:\n"),
        "{}",
        out.yaml
    );
    assert!(out.yaml.contains("      # post /items/:"), "{}", out.yaml);
    assert!(
        out.warnings.iter().any(|w| w.contains("Missing")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn response_checks_carry_standalone_schemas() {
    let opts = Options {
        check_responses: true,
        ..Options::default()
    };
    let out = generate(&document(items_doc()), &opts).unwrap();
    compile(&out.yaml);
    assert!(out.yaml.contains("schema:"), "{}", out.yaml);
    assert!(out.yaml.contains("$ref: '#/$defs/Item'"), "{}", out.yaml);
}

#[test]
fn deprecated_operations_are_written_when_asked_for() {
    let opts = Options {
        selection: Selection {
            include_deprecated: true,
            ..Selection::default()
        },
        ..Options::default()
    };
    let out = generate(&document(items_doc()), &opts).unwrap();
    compile(&out.yaml);
    assert!(out.yaml.contains("      get /old:\n"), "{}", out.yaml);
}

/// OpenAPI 3.0 in YAML: `nullable`, boolean exclusive bounds and `example` as 3.0 means
/// them, in the generated values and in the response schemas.
#[test]
fn openapi_30_yaml_documents_work() {
    let doc = source::parse(
        "openapi.yaml",
        r"openapi: 3.0.3
info: {title: legacy, version: '2'}
servers: [{url: /api/v2}]
paths:
  /things:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        '201':
          description: made
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
components:
  schemas:
    Thing:
      type: object
      required: [count, label]
      properties:
        count: {type: integer, minimum: 0, exclusiveMinimum: true, maximum: 5}
        label: {type: string, example: 'sample label'}
        note: {type: string, nullable: true}
",
    )
    .unwrap();
    let opts = Options {
        check_responses: true,
        ..Options::default()
    };
    let out = generate(&doc, &opts).unwrap();
    compile(&out.yaml);
    let yaml = &out.yaml;
    assert!(
        yaml.starts_with("# Generated") && yaml.contains("target: http://127.0.0.1:8000/api/v2"),
        "{yaml}"
    );
    assert!(yaml.contains("count: \"{{ int(1, 5) }}\""), "{yaml}");
    assert!(yaml.contains("label: sample label  # example"), "{yaml}");
    // The 3.0 schema, rewritten for a 2020-12 validator.
    assert!(yaml.contains("exclusiveMinimum: 0"), "{yaml}");
    assert!(yaml.contains("- 'null'"), "{yaml}");
}

/// Warehouses are only listed (pre-seeded), never created; docks are listed inside a
/// warehouse, as a page (`{"items": [...]}`).
fn listed_doc() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "stock", "version": "1"},
        "paths": {
            "/warehouses": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Warehouse"}}}}}}}},
            "/warehouses/{warehouse_id}": {"get": {
                "parameters": [{"name": "warehouse_id", "in": "path", "required": true,
                    "schema": {"type": "integer", "minimum": 9000, "maximum": 9999}}],
                "responses": {"200": {"description": "ok"}, "404": {"description": "unknown"}}}},
            "/warehouses/{warehouse_id}/docks": {"get": {
                "parameters": [{"name": "warehouse_id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Dock"}},
                        "total": {"type": "integer"}}}}}}}}},
            "/warehouses/{warehouse_id}/docks/{dock_id}": {"get": {
                "parameters": [
                    {"name": "warehouse_id", "in": "path", "required": true, "schema": {"type": "integer"}},
                    {"name": "dock_id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^D-[0-9]{3}$"}, "example": "D-042"}],
                "responses": {"200": {"description": "ok"}}}}
        },
        "components": {"schemas": {
            "Warehouse": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "city": {"type": "string"}}},
            "Dock": {"type": "object", "required": ["dock_id"], "properties": {"dock_id": {"type": "string"}}}
        }}
    })
}

/// The lines of the task keyed `key`, up to the next task.
fn task_of<'y>(yaml: &'y str, key: &str) -> &'y str {
    let start = yaml
        .find(&format!("      {key}:\n"))
        .unwrap_or_else(|| panic!("no task {key}:\n{yaml}"));
    let rest = &yaml[start + key.len() + 8..];
    let end = rest
        .find("\n      get ")
        .or_else(|| rest.find("\n\n"))
        .unwrap_or(rest.len());
    &yaml[start..start + key.len() + 8 + end]
}

#[test]
fn ids_only_a_list_supplies_come_from_the_list_with_a_default() {
    let out = generate(&document(listed_doc()), &Options::default()).unwrap();
    let yaml = &out.yaml;
    compile(yaml);
    let read = task_of(yaml, "get /warehouses/{warehouse_id}");
    // list -> save with a default valid for the parameter -> read, which accepts 404
    // because the list may have been empty.
    assert!(
        read.contains(
            "          - get: /warehouses\n            name: /warehouses\n            save:\n              warehouse_id:\n                jsonpath: '$[0].id'\n                default: 9"
        ),
        "{read}"
    );
    assert!(
        read.contains("check:\n              status: '2xx'  # lists the {warehouse_id} used below"),
        "{read}"
    );
    assert!(
        read.contains("- get: \"/warehouses/{{ warehouse_id }}\""),
        "{read}"
    );
    assert!(
        read.contains("- 404  # a list may be empty: then the saved default of {warehouse_id} may name nothing"),
        "{read}"
    );
    assert!(!yaml.contains("422"), "{yaml}");
    // The default is a fixed value in the parameter's range, not a template.
    let default_line = read.lines().find(|l| l.contains("default: ")).unwrap();
    let n: i64 = default_line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{default_line}"));
    assert!((9000..=9999).contains(&n), "{default_line}");

    // Nested: the warehouse from its list, then the dock from the warehouse's page of
    // docks; the page list may itself answer 404 (the warehouse may be the default), and
    // the dock's default is the parameter's example.
    let dock = task_of(yaml, "get /warehouses/{warehouse_id}/docks/{dock_id}");
    assert!(dock.contains("jsonpath: '$.items[0].dock_id'"), "{dock}");
    assert!(
        dock.contains("default: D-042  # used when the list is empty (from: example)"),
        "{dock}"
    );
    assert_eq!(dock.matches("- 404  #").count(), 2, "{dock}");
    assert!(
        dock.contains("- 404  # a list may be empty: then the saved default of {warehouse_id}, {dock_id} may name nothing"),
        "{dock}"
    );
}

#[test]
fn a_create_is_still_preferred_over_a_list() {
    let out = generate(&document(items_doc()), &Options::default()).unwrap();
    let read = task_of(&out.yaml, "get /items/{item_id}");
    // `GET /items/` documents no body, but a create exists either way: no default, no 404.
    assert!(read.contains("item_id: '$.id'"), "{read}");
    assert!(
        !read.contains("default:") && !read.contains("404"),
        "{read}"
    );

    let mut doc = listed_doc();
    doc["paths"]["/warehouses"]["post"] = json!({
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}}}},
        "responses": {"201": {"description": "made", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Warehouse"}}}}}
    });
    let out = generate(&document(doc), &Options::default()).unwrap();
    compile(&out.yaml);
    let read = task_of(&out.yaml, "get /warehouses/{warehouse_id}");
    assert!(read.contains("- post: /warehouses"), "{read}");
    assert!(read.contains("warehouse_id: '$.id'"), "{read}");
    assert!(!read.contains("- get: /warehouses\n"), "{read}");
    assert!(!read.contains("404"), "{read}");
}

/// A document shaped like the full-stack FastAPI template, reduced to what decides the
/// safety rules, and the newer shapes.
fn fullstack_doc() -> Value {
    let json_body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let ok = json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}});
    let auth = json!([{"OAuth2PasswordBearer": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "full stack", "version": "1"},
        "paths": {
            "/api/v1/login/access-token": {"post": {"tags": ["login"],
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": {"description": "ok"}}}},
            "/api/v1/users/": {
                "get": {"tags": ["users"], "security": auth, "parameters": [
                    {"name": "skip", "in": "query", "required": false, "schema": {"type": "integer", "default": 0}},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "default": 100}}
                ], "responses": {"200": {"description": "ok"}}},
                "post": {"tags": ["users"], "security": auth, "requestBody": json_body(json!({"type": "object",
                    "required": ["email", "password", "role"], "properties": {
                        "email": {"type": "string"}, "password": {"type": "string", "minLength": 8},
                        "is_superuser": {"type": "boolean", "default": false},
                        "role": {"enum": ["admin", "member"]}}})), "responses": ok}
            },
            "/api/v1/users/me": {
                "patch": {"tags": ["users"], "security": auth, "requestBody": json_body(json!({"type": "object", "properties": {
                    "full_name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "email": {"anyOf": [{"type": "string"}, {"type": "null"}]}}})), "responses": ok},
                "delete": {"tags": ["users"], "security": auth, "responses": {"200": {"description": "ok"}}}
            },
            "/api/v1/users/me/password": {"patch": {"tags": ["users"], "security": auth,
                "requestBody": json_body(json!({"type": "object", "required": ["current_password", "new_password"], "properties": {
                    "current_password": {"type": "string"}, "new_password": {"type": "string"}}})),
                "responses": {"200": {"description": "ok"}}}},
            "/api/v1/users/{user_id}": {
                "get": {"tags": ["users"], "security": auth, "parameters": [{"name": "user_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}], "responses": ok},
                "delete": {"tags": ["users"], "security": auth, "parameters": [{"name": "user_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}], "responses": {"200": {"description": "ok"}}}
            },
            "/api/v1/utils/health-check/": {"get": {"tags": ["utils"], "responses": {"200": {"description": "ok"}}}},
            "/shapes/form": {"post": {"tags": ["shapes"], "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object",
                "required": ["name"], "properties": {"name": {"type": "string"},
                "address": {"anyOf": [{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, {"type": "null"}]}}}}}},
                "responses": {"200": {"description": "ok"}}}},
            "/shapes/scores": {"post": {"tags": ["shapes"], "requestBody": json_body(json!({"type": "object", "additionalProperties": {"type": "number"}})),
                "responses": {"200": {"description": "ok"}}}},
            "/shapes/headers": {"get": {"tags": ["shapes"], "parameters": [
                {"name": "host", "in": "header", "required": true, "schema": {"type": "string"}},
                {"name": "q", "in": "query", "required": false, "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]}}
            ], "responses": {"200": {"description": "ok"}}}}
        },
        "components": {
            "schemas": {"User": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "format": "uuid"}}}},
            "securitySchemes": {"OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "/api/v1/login/access-token"}}}}
        }
    })
}

#[test]
fn the_login_account_is_never_changed_and_no_privilege_is_granted() {
    let out = generate(&document(fullstack_doc()), &Options::default()).unwrap();
    let yaml = &out.yaml;
    compile(yaml);
    // Deleting "me" and changing its password are left out, with the reason.
    assert_eq!(out.left_out, 2, "{yaml}");
    assert!(
        yaml.contains("# LEFT OUT: it deletes the account the scenario logs in with"),
        "{yaml}"
    );
    assert!(
        yaml.contains("# LEFT OUT: it changes the password of the account"),
        "{yaml}"
    );
    // An update of "me" keeps its name field and sends no email.
    let patch = &yaml[yaml.find("      patch /api/v1/users/me:").unwrap()..];
    let patch = &patch[..patch.find("\n      #").unwrap_or(patch.len())];
    assert!(patch.contains("full_name:"), "{patch}");
    assert!(!patch.contains("email:"), "{patch}");
    assert!(patch.contains("# not sent: email"), "{patch}");
    // Privilege fields: an optional one is not sent, a required one is the least role.
    assert!(!yaml.contains("is_superuser"), "{yaml}");
    assert!(yaml.contains("role: member"), "{yaml}");
    assert!(!yaml.contains("choice(true, false)"), "{yaml}");
    // A delete fed by a create reads what it made before deleting it.
    let delete = &yaml[yaml.find("      delete /api/v1/users/{user_id}:").unwrap()..];
    let steps: Vec<&str> = delete
        .lines()
        .take_while(|l| !l.starts_with("      get ") && !l.starts_with("  shapes"))
        .filter(|l| l.trim_start().starts_with("- "))
        .map(str::trim)
        .collect();
    assert_eq!(
        steps,
        [
            "- post: /api/v1/users/",
            "- get: \"/api/v1/users/{{ user_id_param }}\"",
            "- delete: \"/api/v1/users/{{ user_id_param }}\""
        ],
        "{delete}"
    );
}

#[test]
fn load_is_shaped_like_users_and_newer_shapes_are_valid() {
    let out = generate(&document(fullstack_doc()), &Options::default()).unwrap();
    let yaml = &out.yaml;
    let plan = compile(yaml);
    // Paging stays on the first page; the page size keeps its default.
    assert!(
        yaml.contains("skip: 0  # paging: the first page, where lists have rows"),
        "{yaml}"
    );
    assert!(yaml.contains("limit: 100  # page size"), "{yaml}");
    // The health route weighs 1, and so does the user type made of it.
    assert!(
        yaml.contains("  utils:  # operations tagged `utils`\n    weight: 1  #"),
        "{yaml}"
    );
    assert!(
        yaml.contains("      get /api/v1/utils/health-check/:\n        weight: 1\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  think: '0.5s..1.5s'"), "{yaml}");
    assert_eq!(plan.scenarios[0].users.len(), 3, "{yaml}");
    // A form's optional nested model is left out; a map gets integer-like keys; the real
    // Host is kept; an optional query parameter goes out only in the rare task.
    let form = &yaml[yaml.find("      post /shapes/form:").unwrap()..];
    assert!(
        !form[..form.find("check:").unwrap()].contains("address"),
        "{form}"
    );
    assert!(yaml.contains("'1': \"{{ float("), "{yaml}");
    assert!(!yaml.contains("host:"), "{yaml}");
    assert!(
        yaml.contains("      get /shapes/headers (optional parameters):\n        weight: 1\n"),
        "{yaml}"
    );
    assert_eq!(yaml.matches("            q: ").count(), 1, "{yaml}");
}
