// Checks answers of the running site against nginx/openapi.json, for
// tests/openapi.sh.
//
//   node validate.js OPENAPI.json MANIFEST NOT-PROVOKED
//
// MANIFEST: one answer a line, "METHOD<TAB>PATH<TAB>FILE<TAB>KIND": the
// request's method and path (query and all), and the answer in FILE.h
// (headers, as curl -D writes them) and FILE.b (body) for KIND curl, or
// FILE.raw (the bytes nginx sent) for KIND raw.
// NOT-PROVOKED: "METHOD PATH STATUS" a line (PATH as the document names
// it, "*" for any path it does not name), the documented answers the test
// does not provoke; '#' comments.
//
// The answers the document lists for a path and method: its operation's
// responses; for a method the path does not answer, the path's
// x-other-methods (groups {methods, responses}); for a path that is no
// operation, x-other-paths: its paths (one's answers by name) and its
// answers (those of any other path, "*" below).  Every listed path must
// list every method once, as an operation or in x-other-methods.
//
// Each answer must be documented for its path and method (the path matched
// as OpenAPI matches it: a listed path before a templated one), carry every
// required header the document lists with a value its schema accepts, no
// header the document lists on other answers but not on this one, and a
// body its content type and schema accept (none for HEAD, 204 and
// 304).  Every documented (operation, status) must have been seen or be
// listed as not provoked, and nothing listed may have been seen.
// Prints "OK<TAB>what" or "NOK<TAB>what<TAB>why" lines.
"use strict";
const fs = require("fs");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

const [docFile, manifestFile, notProvokedFile] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docFile, "utf8"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
let failures = 0;
const ok = (what) => console.log(`OK\t${what}`);
const nok = (what, why) => {
	failures++;
	console.log(`NOK\t${what}\t${String(why).replace(/\s+/g, " ").slice(0, 600)}`);
};

// ---- the document ----
// A local $ref ("#/components/...") resolved, for responses and headers.
function deref(o) {
	while (o && typeof o.$ref === "string") {
		if (!o.$ref.startsWith("#/"))
			throw new Error(`not a local $ref: ${o.$ref}`);
		o = o.$ref.slice(2).split("/").reduce((x, k) =>
			x[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
	}
	return o;
}
// Schemas: the document's components under an id of their own, their
// $refs pointing there; OpenAPI's nullable is Ajv's own keyword.
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
function rewrite(x) {
	if (Array.isArray(x))
		return x.map(rewrite);
	if (x && typeof x === "object") {
		const o = {};
		for (const [k, v] of Object.entries(x))
			o[k] = k === "$ref" && typeof v === "string" &&
			    v.startsWith("#/components/schemas/") ?
			    "openapi#/definitions/" + v.slice(21) : rewrite(v);
		return o;
	}
	return x;
}
ajv.addSchema({ $id: "openapi", definitions: rewrite(doc.components.schemas) });
const compiled = new Map();
function validator(schema) {
	const key = JSON.stringify(schema);
	if (!compiled.has(key))
		compiled.set(key, ajv.compile(rewrite(schema)));
	return compiled.get(key);
}
function schemaErrors(schema, value) {
	const v = validator(schema);
	return v(value) ? null : ajv.errorsText(v.errors);
}

// The answers by path and method: path -> METHOD -> responses.
const answers = new Map();
function listAnswers(p, method, responses, where) {
	if (!answers.has(p))
		answers.set(p, new Map());
	if (answers.get(p).has(method))
		nok(`the document lists ${method} ${p} once`, `again in ${where}`);
	answers.get(p).set(method, responses);
}
function listGroups(p, groups, where) {
	for (const g of groups || [])
		for (const m of g.methods)
			listAnswers(p, m, g.responses, where);
}
for (const [p, item] of Object.entries(doc.paths)) {
	for (const m of METHODS)
		if (item[m])
			listAnswers(p, m.toUpperCase(), item[m].responses, "its operations");
	listGroups(p, item["x-other-methods"], "x-other-methods");
	const missing = METHODS.filter((m) => !answers.get(p).has(m.toUpperCase()));
	if (missing.length)
		nok(`${p}: every method is an operation or in x-other-methods`,
		    `neither: ${missing.join(" ").toUpperCase()}`);
}
const otherPaths = doc["x-other-paths"] || {};
for (const [p, e] of Object.entries(otherPaths.paths || {})) {
	if (doc.paths[p])
		nok(`x-other-paths names ${p}`, "a path listed in paths");
	listGroups(p, e.answers, "x-other-paths");
}
listGroups("*", otherPaths.answers, "x-other-paths");

// Which documented path a request path is: a listed one, one x-other-paths
// names, a template whose {name} stands for one segment, else "*".
function matchPath(p) {
	if (doc.paths[p] || (otherPaths.paths || {})[p])
		return p;
	return Object.keys(doc.paths).find((t) => t.includes("{") &&
	    new RegExp("^" + t.replace(/[.*+?^$()|[\]\\]/g, "\\$&")
	    .replace(/\{[^}]+\}/g, "[^/]+") + "$").test(p)) || "*";
}

// ---- one answer ----
function parse(headText) {
	const blocks = headText.replace(/\r/g, "").split(/\n\n/).filter((b) => /^HTTP\//.test(b));
	const lines = (blocks.pop() || "").split("\n");
	const m = /^HTTP\/[0-9.]+ ([0-9]{3})/.exec(lines.shift() || "");
	const headers = {};
	for (const l of lines) {
		const i = l.indexOf(":");
		if (i > 0) {
			const name = l.slice(0, i).trim().toLowerCase();
			(headers[name] = headers[name] || []).push(l.slice(i + 1).trim());
		}
	}
	return { status: m ? m[1] : null, headers };
}
function headerValue(schema, s) {
	return (schema.type === "integer" || schema.type === "number") &&
	    /^-?[0-9]+(\.[0-9]+)?$/.test(s) ? Number(s) : s;
}

// Every header name the document lists on some answer: one of them on an
// answer that does not list it is undocumented there (Server, Date and
// the like, which the document never names, are not checked).
const named = new Set();
for (const byMethod of answers.values())
	for (const responses of byMethod.values())
		for (const r of Object.values(responses || {}))
			for (const name of Object.keys(deref(r).headers || {}))
				named.add(name.toLowerCase());

const seen = new Set();
function check(method, reqPath, file, kind) {
	let ans, body;
	if (kind === "raw") {
		const raw = fs.readFileSync(file + ".raw", "latin1");
		const cut = raw.indexOf("\r\n\r\n");
		ans = parse(cut < 0 ? raw : raw.slice(0, cut));
		body = Buffer.from(cut < 0 ? "" : raw.slice(cut + 4), "latin1").toString("utf8");
	} else {
		ans = parse(fs.readFileSync(file + ".h", "utf8"));
		body = fs.readFileSync(file + ".b", "utf8");
	}
	const shown = reqPath.length > 60 ? reqPath.slice(0, 60) + "..." : reqPath;
	const what = `${method} ${shown} -> ${ans.status}`;
	if (!ans.status)
		return nok(what, "no HTTP answer");
	const path = matchPath(reqPath.split("?")[0]);
	const responses = answers.has(path) && answers.get(path).get(method);
	if (!responses)
		return nok(what, `no answer of ${method} for ${shown} (as ${path}) in the document`);
	seen.add(`${method} ${path} ${ans.status}`);
	const resp = deref(responses[ans.status]);
	if (!resp)
		return nok(what, `status ${ans.status} is not documented for ${method} ${path} (documented: ${Object.keys(responses).join(" ")})`);
	const bad = [];
	for (const [name, ref] of Object.entries(resp.headers || {})) {
		const h = deref(ref), got = ans.headers[name.toLowerCase()];
		if (!got) {
			if (h.required)
				bad.push(`no ${name}`);
			continue;
		}
		if (got.length > 1)
			bad.push(`${name} sent ${got.length} times`);
		const e = schemaErrors(h.schema, headerValue(h.schema, got[0]));
		if (e)
			bad.push(`${name}: ${got[0]}: ${e}`);
	}
	const listed = new Set(Object.keys(resp.headers || {}).map((n) => n.toLowerCase()));
	for (const name of Object.keys(ans.headers))
		if (named.has(name) && !listed.has(name))
			bad.push(`${name} sent, but not documented for this answer`);
	const ctype = (ans.headers["content-type"] || [""])[0];
	const mediaType = ctype.split(";")[0].trim().toLowerCase();
	if (method === "HEAD" || ans.status === "204" || ans.status === "304" || !resp.content) {
		if (body.length > 0)
			bad.push(`a body where none is documented (${body.length} bytes)`);
	} else if (!resp.content[mediaType]) {
		bad.push(`Content-Type ${ctype || "(none)"} is not one of ${Object.keys(resp.content).join(", ")}`);
	} else {
		const schema = resp.content[mediaType].schema || {};
		let value = body, e = null;
		if (mediaType === "application/json") {
			try {
				value = JSON.parse(body);
			} catch (err) {
				e = `not JSON: ${err.message}`;
			}
		}
		if (!e && /json/.test(mediaType) && !/charset=utf-8/i.test(ctype))
			e = `${ctype}: no charset=utf-8`;
		e = e || schemaErrors(schema, value);
		if (e)
			bad.push(`body (${mediaType}): ${e}`);
	}
	if (bad.length)
		nok(what, bad.join("; "));
	else
		ok(`${what}: documented, headers and body as documented`);
}

for (const line of fs.readFileSync(manifestFile, "utf8").split("\n")) {
	if (!line)
		continue;
	const [method, reqPath, file, kind] = line.split("\t");
	try {
		check(method, reqPath, file, kind);
	} catch (err) {
		nok(`${method} ${reqPath}`, err.stack);
	}
}

// ---- what the document lists, against what was seen ----
const documented = new Set();
for (const [p, byMethod] of answers)
	for (const [m, responses] of byMethod)
		for (const st of Object.keys(responses || {}))
			documented.add(`${m} ${p} ${st}`);
const listed = new Set();
for (const raw of fs.readFileSync(notProvokedFile, "utf8").split("\n")) {
	const line = raw.replace(/#.*/, "").trim().replace(/\s+/g, " ");
	if (!line)
		continue;
	listed.add(line);
	if (!documented.has(line))
		nok(`not provoked: ${line}`, "the document does not list it");
	else if (seen.has(line))
		nok(`not provoked: ${line}`, "it was provoked: take it off the list");
}
const missing = [...documented].filter((d) => !seen.has(d) && !listed.has(d));
for (const d of missing)
	nok(`documented answer ${d}`, "neither provoked nor listed as not provokable here");
if (!missing.length)
	ok(`every documented answer is provoked (${[...documented].filter((d) => seen.has(d)).length}) or listed as not provokable here (${listed.size}), of ${documented.size}`);
process.exit(failures ? 1 : 0);
