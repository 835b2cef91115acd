/* TOML v1.0.0 documents as jansson trees.
 *
 * One parser for pyproject.toml, pylock.toml, buildpack.toml and builder files.  The result is a
 * plain json_t tree, so callers use jansson's API on it:
 *
 *   table            -> object (keys in document order; jansson keeps insertion order)
 *   array            -> array
 *   string           -> string (UTF-8; may contain U+0000 from an escape: use json_string_length)
 *   integer          -> integer (64-bit)
 *   float            -> real; inf and nan, which a json real cannot hold, -> a tagged value
 *   boolean          -> true / false
 *   date and time    -> a tagged value
 *
 * A tagged value is an object with exactly two string members, "$toml" (the kind) and "value":
 *
 *   {"$toml": "datetime",       "value": "1979-05-27T07:32:00.999-07:00"}   offset date-time
 *   {"$toml": "datetime-local", "value": "1979-05-27T07:32:00"}             local date-time
 *   {"$toml": "date-local",     "value": "1979-05-27"}                      local date
 *   {"$toml": "time-local",     "value": "07:32:00.5"}                      local time
 *   {"$toml": "float",          "value": "inf" | "-inf" | "nan"}
 *
 * Date-time text is as written, normalised: 'T' between date and time (for 't' or ' '), 'Z' for
 * 'z'; fractional seconds and numeric offsets are kept digit for digit.  So that a table can never
 * be mistaken for a tagged value, a key named "$toml" is refused.
 *
 * docs/internals/toml.md describes the mapping, the limits and the error format. */
#ifndef DSBUILD_TOML_H
#define DSBUILD_TOML_H

#include <stddef.h>

#include <jansson.h>

#include <dsbuild/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits, so that no input can exhaust the stack or memory.  Over a limit the parse fails with
 * DS_ENOMEM and a message naming the limit. */
#define DS_TOML_MAX_SIZE ((size_t)16 << 20) /* bytes in a document */
#define DS_TOML_MAX_DEPTH 128               /* nested tables and arrays, headers included */
#define DS_TOML_MAX_KEY 4096                /* bytes in one key (one part of a dotted key) */
#define DS_TOML_MAX_NODES 500000            /* tables, arrays and values; a tagged value is 3 */
#define DS_TOML_MAX_NUMBER 1024             /* characters in one number or date literal */

/* Parses the len bytes at text (no NUL terminator needed) as one TOML document and sets *out to
 * a new reference to its root object.  name is used in messages, which read
 *   "'pyproject.toml' line 3 column 7: duplicate key 'name'"
 * (lines and columns count from 1; columns count characters) with a hint where one helps.
 * Syntax and semantic errors are DS_EFORMAT, limits DS_ENOMEM.  *out is untouched on failure. */
int ds_toml_parse(json_t **out, const char *name, const char *text, size_t len, ds_error *err);

/* Reads the file at path (at most DS_TOML_MAX_SIZE bytes) and parses it as ds_toml_parse() does,
 * with path as the name in messages. */
int ds_toml_parse_file(json_t **out, const char *path, ds_error *err);

/* If v is a tagged value of the given kind ("datetime", "datetime-local", "date-local",
 * "time-local", "float"; NULL for any kind), returns its text, borrowed from v; otherwise NULL. */
const char *ds_toml_tagged(const json_t *v, const char *kind);

/* The kind of a tagged value ("datetime", ...), borrowed from v, or NULL if v is not one. */
const char *ds_toml_tag_kind(const json_t *v);

#ifdef __cplusplus
}
#endif
#endif
