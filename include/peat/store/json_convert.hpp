// JSON <-> Automerge document, following the Rust peat-mesh json_convert rules:
// maps → objects, lists → arrays, strings/ints/uints/floats/bools/null as themselves, timestamps
// → numbers (ms), non-finite floats → null, and bytes, counters, text and table objects → null.
// Writing: the root must be a JSON object; integers become signed 64-bit when they fit (else
// float); strings become scalar strings (never Text); arrays and objects are written as fresh
// objects (a root key's subtree is replaced, not merged); root keys absent from the JSON are
// removed. Unlike the Rust crate, root keys whose value is unchanged are not rewritten, so an
// unchanged put adds no operations.
#pragma once

#include <nlohmann/json.hpp>

#include "peat/common/result.hpp"
#include "peat/doc/document.hpp"

namespace peat::store {

nlohmann::json document_to_json(const doc::Document& doc);
// Writes `json` into the document's root in its open transaction (the caller commits).
// "INVALID_JSON" when the root is not an object.
Status write_json(doc::Document& doc, const nlohmann::json& json);

// Whether the document carries the soft-delete mark `_deleted: true` in its root. The mark is an
// ordinary edit, so it syncs to peers (the store's own soft-deleted flag stays local); the typed
// and bytes collection views use it to decide visibility.
bool marked_deleted(const doc::Document& doc);

}  // namespace peat::store
