/*
 * Test helper: check a JSON document against a schema of an OpenAPI 3.0
 * file.  Usage: schema_check OPENAPI.json SCHEMA FILE ("-" for stdin).
 * Exit 0 if it conforms, 1 (with the reason on stderr) if not, 2 on usage.
 * The subset of OpenAPI this project's document uses: $ref to
 * #/components/schemas, type, nullable, required, properties,
 * additionalProperties: false, items, maxItems, enum, minimum, maximum, and
 * format: date-time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed.h"

static json_t *schemas;

static int
fail(const char *path, const char *fmt, const char *arg)
{
	fprintf(stderr, "schema_check: %s: ", path[0] ? path : "(root)");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
}

/* A JSON Schema type and the jansson types that are of it. */
static const struct {
	const char *name;
	json_type a, b;
} types[] = {
	{ "object", JSON_OBJECT, JSON_OBJECT },
	{ "array", JSON_ARRAY, JSON_ARRAY },
	{ "string", JSON_STRING, JSON_STRING },
	{ "integer", JSON_INTEGER, JSON_INTEGER },
	{ "number", JSON_INTEGER, JSON_REAL },
	{ "boolean", JSON_TRUE, JSON_FALSE },
};

static int
type_ok(const char *type, const json_t *v)
{
	for (size_t i = 0; v != NULL && i < sizeof(types) / sizeof(types[0]);
	    i++)
		if (strcmp(type, types[i].name) == 0)
			return json_typeof(v) == types[i].a ||
			    json_typeof(v) == types[i].b;
	return 0;
}

static int
check(const json_t *schema, const json_t *v, const char *path)
{
	const json_t *ref = json_object_get(schema, "$ref"), *t, *x;
	const char *key;
	json_t *sub;
	char sub_path[512];

	if (json_is_string(ref)) {
		const char *name = json_string_value(ref);

		if (strncmp(name, "#/components/schemas/", 21) != 0 ||
		    (schema = json_object_get(schemas, name + 21)) == NULL)
			return fail(path, "unknown $ref %s", name);
	}
	if (json_is_null(v))
		return json_is_true(json_object_get(schema, "nullable")) ? 0 :
		    fail(path, "null where it is not nullable%s", "");
	t = json_object_get(schema, "type");
	if (json_is_string(t) && !type_ok(json_string_value(t), v))
		return fail(path, "not of type %s", json_string_value(t));
	if ((x = json_object_get(schema, "enum")) != NULL) {
		size_t i;
		json_t *e;
		int found = 0;

		json_array_foreach(x, i, e)
			found |= json_equal(e, v);
		if (!found)
			return fail(path, "not one of the enum%s", "");
	}
	if ((x = json_object_get(schema, "minimum")) != NULL &&
	    json_is_number(v) && json_number_value(v) < json_number_value(x))
		return fail(path, "below the minimum%s", "");
	if ((x = json_object_get(schema, "maximum")) != NULL &&
	    json_is_number(v) && json_number_value(v) > json_number_value(x))
		return fail(path, "above the maximum%s", "");
	if ((x = json_object_get(schema, "format")) != NULL && json_is_string(v) &&
	    strcmp(json_string_value(x), "date-time") == 0) {
		int64_t ms;
		const char *s = json_string_value(v);

		if (strlen(s) < 20 || strchr(s, 'T') == NULL ||
		    feed_parse_time(s, &ms) < 0)
			return fail(path, "not an RFC 3339 date-time: %s", s);
	}
	if (json_is_object(v)) {
		const json_t *props = json_object_get(schema, "properties");
		size_t i;

		json_array_foreach(json_object_get(schema, "required"), i, x)
			if (json_object_get(v, json_string_value(x)) == NULL)
				return fail(path, "missing required %s",
				    json_string_value(x));
		json_object_foreach((json_t *)v, key, sub) {
			const json_t *ps = props ? json_object_get(props, key) :
			    NULL;

			snprintf(sub_path, sizeof(sub_path), "%s.%s", path, key);
			if (ps == NULL) {
				if (json_is_false(json_object_get(schema,
				    "additionalProperties")))
					return fail(path, "unexpected member %s",
					    key);
				continue;
			}
			if (check(ps, sub, sub_path) < 0)
				return -1;
		}
	}
	if (json_is_array(v)) {
		const json_t *items = json_object_get(schema, "items");
		size_t i;

		if ((x = json_object_get(schema, "maxItems")) != NULL &&
		    json_array_size(v) > (size_t)json_integer_value(x))
			return fail(path, "too many items%s", "");
		json_array_foreach((json_t *)v, i, sub) {
			snprintf(sub_path, sizeof(sub_path), "%s[%zu]", path, i);
			if (items != NULL && check(items, sub, sub_path) < 0)
				return -1;
		}
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	json_error_t err;
	json_t *api, *doc, *schema;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: schema_check OPENAPI.json SCHEMA FILE\n");
		return 2;
	}
	if ((api = json_load_file(argv[1], 0, &err)) == NULL) {
		fprintf(stderr, "schema_check: %s: %s\n", argv[1], err.text);
		return 2;
	}
	schemas = json_object_get(json_object_get(api, "components"), "schemas");
	if ((schema = json_object_get(schemas, argv[2])) == NULL) {
		fprintf(stderr, "schema_check: no schema %s\n", argv[2]);
		return 2;
	}
	doc = strcmp(argv[3], "-") == 0 ?
	    json_loadf(stdin, JSON_DECODE_ANY, &err) :
	    json_load_file(argv[3], JSON_DECODE_ANY, &err);
	if (doc == NULL) {
		fprintf(stderr, "schema_check: not JSON: %s\n", err.text);
		json_decref(api);
		return 1;
	}
	rc = check(schema, doc, "") == 0 ? 0 : 1;
	json_decref(doc);
	json_decref(api);
	return rc;
}
