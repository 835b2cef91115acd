/* The file formats of the Cloud Native Buildpacks runner (lib/buildpack/cnb.h):
 * build plans and their resolution, <layer>.toml, launch.toml, env folders,
 * TOML out, path rewriting. */
#include <dsbuild/buf.h>
#include <dsbuild/toml.h>

#include "buildpack/cnb.h"
#include "testutil.h"

static json_t *plan_of(const char *text)
{
	json_t *o = NULL;
	ds_error err = DS_ERROR_INIT;
	if (bp_cnb_plan_parse(&o, text, strlen(text), "plan.toml", &err) < 0)
		printf("# %s\n", err.msg);
	return o;
}

static char *dumps(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static int plan_error(const char *text, const char *want)
{
	json_t *o = NULL;
	ds_error err = DS_ERROR_INIT;
	int rc = bp_cnb_plan_parse(&o, text, strlen(text), "plan.toml", &err);
	json_decref(o);
	if (rc == 0 || !strstr(err.msg, want))
		printf("# got '%s'\n", err.msg);
	return rc < 0 && strstr(err.msg, want) != NULL;
}

static void test_plan_parse(void)
{
	json_t *o;
	char *s;

	o = plan_of("");
	s = dumps(o);
	is_str(s, "[{\"provides\":[],\"requires\":[]}]", "an empty plan is one empty alternative");
	free(s);
	json_decref(o);

	o = plan_of("[[provides]]\nname = \"node\"\n[[requires]]\nname = \"node\"\n"
		    "version = \"18\"\n[requires.metadata]\nbuild = true\n"
		    "[[or]]\n[[or.provides]]\nname = \"npm\"\n"
		    "[[or]]\n[[or.requires]]\nname = \"yarn\"\n[or.requires.metadata]\nx = 1\n");
	s = dumps(o);
	is_str(s,
	       "[{\"provides\":[{\"name\":\"node\"}],\"requires\":[{\"metadata\":{\"build\":true,"
	       "\"version\":\"18\"},\"name\":\"node\"}]},"
	       "{\"provides\":[{\"name\":\"npm\"}],\"requires\":[]},"
	       "{\"provides\":[],\"requires\":[{\"metadata\":{\"x\":1},\"name\":\"yarn\"}]}]",
	       "top-level pair, then each [[or]]; requires.version moves into metadata");
	free(s);
	json_decref(o);

	ok(plan_error("[[requires]]\nversion = \"1\"\n", "requires[0] needs a name"),
	   "a require without a name");
	ok(plan_error("[[or]]\n[[or.provides]]\nname = \"\"\n", "or[0].provides[0] needs a name"),
	   "an empty name in an alternative");
	ok(plan_error("provides = \"x\"\n", "provides must be an array of tables"),
	   "provides not an array");
	ok(plan_error("[[requires]]\nname = \"a\"\nmetadata = 3\n", "metadata must be a table"),
	   "metadata not a table");
	ok(plan_error("[[provides]\n", "plan.toml' line 1"),
	   "a TOML error names the file and line");
	{
		ds_buf b = DS_BUF_INIT;
		ds_buf_init(&b, 0);
		for (int i = 0; i <= CNB_ENTRIES_MAX; i++)
			ds_buf_addf(&b, "[[provides]]\nname = \"p%d\"\n", i);
		ok(plan_error(b.data, "has more than"), "more than %d provides", CNB_ENTRIES_MAX);
		ds_buf_reset(&b);
		for (int i = 0; i <= CNB_OR_MAX; i++)
			ds_buf_adds(&b, "[[or]]\n");
		ok(plan_error(b.data, "[[or]] alternatives"), "more than %d [[or]]", CNB_OR_MAX);
		ds_buf_release(&b);
	}
}

/* cands from "optional:plan" strings, resolved; returns the "option"s. */
static char *resolve(int final, int *valid, json_t **out, ...)
{
	json_t *cands = json_array(), *c;
	ds_error err = DS_ERROR_INIT;
	ds_buf b = DS_BUF_INIT;
	const char *spec;
	va_list ap;
	size_t i;

	va_start(ap, out);
	while ((spec = va_arg(ap, const char *))) {
		c = json_object();
		json_object_set_new(c, "optional", json_boolean(spec[0] == '?'));
		json_object_set_new(c, "options", plan_of(spec + 1));
		json_array_append_new(cands, c);
	}
	va_end(ap);
	if (bp_cnb_resolve(cands, final, valid, &err) < 0) {
		printf("# %s\n", err.msg);
		json_decref(cands);
		return strdup("error");
	}
	ds_buf_init(&b, 0);
	json_array_foreach (cands, i, c)
		ds_buf_addf(&b, "%s%lld", i ? "," : "",
			    (long long)json_integer_value(json_object_get(c, "option")));
	*out = cands;
	return ds_buf_detach(&b, NULL);
}

static void test_resolve(void)
{
	const char *prov = "[[provides]]\nname = \"tool\"\n";
	const char *req = "[[requires]]\nname = \"tool\"\n[requires.metadata]\nm = \"x\"\n";
	const char *or_req = "[[requires]]\nname = \"tool-v2\"\n[[or]]\n[[or.requires]]\n"
			     "name = \"tool\"\n[or.requires.metadata]\nm = \"y\"\n";
	json_t *c = NULL;
	char *s;
	int valid;

	s = resolve(1, &valid, &c, "!", NULL);
	is_str(s, "0", "an empty plan always resolves");
	ok(valid, "valid");
	free(s);
	json_decref(c);

	s = resolve(1, &valid, &c, F("!%s", prov), F("!%s", req), NULL);
	is_str(s, "0,0", "provider then consumer");
	ok(valid, "valid");
	free(s);
	s = dumps(json_object_get(json_array_get(c, 0), "entries"));
	is_str(s, "[{\"metadata\":{\"m\":\"x\"},\"name\":\"tool\"}]",
	       "the provider's Buildpack Plan holds the consumer's require");
	free(s);
	s = dumps(json_object_get(json_array_get(c, 1), "entries"));
	is_str(s, "[]", "the consumer's Buildpack Plan is empty");
	free(s);
	json_decref(c);

	s = resolve(1, &valid, &c, F("!%s", req), F("!%s", prov), NULL);
	ok(!valid, "consumer before provider: no valid trial");
	ok(strstr(json_string_value(json_object_get(json_array_get(c, 0), "problem")) ?: "",
		  "requires 'tool', which no buildpack before it provides") != NULL,
	   "the problem names the require");
	free(s);
	json_decref(c);

	s = resolve(1, &valid, &c, F("?%s", req), F("?%s", prov), NULL);
	is_str(s, "-1,-1", "optional: both left out");
	ok(valid, "valid with both left out");
	ok(strstr(json_string_value(json_object_get(json_array_get(c, 1), "reason")) ?: "",
		  "provides 'tool', which no buildpack after it requires") != NULL,
	   "the reason names the provide");
	free(s);
	json_decref(c);

	s = resolve(0, &valid, &c, F("!%s", prov), NULL);
	is_str(s, "0", "not final: a lone provide may still find its require");
	ok(valid, "valid");
	free(s);
	json_decref(c);
	s = resolve(1, &valid, &c, F("!%s", prov), NULL);
	ok(!valid, "final: a required lone provide is invalid");
	free(s);
	json_decref(c);

	s = resolve(1, &valid, &c, F("!%s", prov), F("!%s", or_req), NULL);
	is_str(s, "0,1", "the [[or]] alternative that resolves");
	free(s);
	s = dumps(json_object_get(json_array_get(c, 0), "entries"));
	is_str(s, "[{\"metadata\":{\"m\":\"y\"},\"name\":\"tool\"}]", "with its metadata");
	free(s);
	json_decref(c);

	s = resolve(1, &valid, &c, F("?%s", prov), F("!%s", req), F("!%s", req), NULL);
	is_str(s, "0,0,0", "two consumers");
	free(s);
	s = dumps(json_object_get(json_array_get(c, 0), "entries"));
	is_str(s,
	       "[{\"metadata\":{\"m\":\"x\"},\"name\":\"tool\"},{\"metadata\":{\"m\":\"x\"},"
	       "\"name\":\"tool\"}]",
	       "one entry per require");
	free(s);
	json_decref(c);

	s = resolve(1, &valid, &c, F("?%s", prov), "?", F("?%s", prov), F("!%s", req), NULL);
	is_str(s, "0,0,0,0", "two providers both get the entries");
	free(s);
	json_decref(c);

	/* A self-satisfied plan (provides and requires the same). */
	s = resolve(1, &valid, &c, F("!%s%s", prov, req), NULL);
	is_str(s, "0", "a buildpack that provides what it requires");
	free(s);
	json_decref(c);
}

static void test_toml_write(void)
{
	const char *src = "title = \"a \\\"q\\\" \\\\ \\n\\t\\u0001 é\"\n"
			  "n = -42\nf = 1.5\ng = 3e20\nt = true\nd = 1979-05-27T07:32:00Z\n"
			  "ld = 1979-05-27\narr = [1, \"two\", [3]]\ninl = [{ a = 1 }, 2]\n"
			  "\"odd key\" = 1\n"
			  "[meta]\nx = \"y\"\n[meta.deep]\nz = 0\n"
			  "[[entries]]\nname = \"a\"\n[entries.metadata]\nm = 1\n"
			  "[[entries]]\nname = \"b\"\n";
	json_t *a = NULL, *b = NULL;
	ds_error err = DS_ERROR_INIT;
	ds_buf out = DS_BUF_INIT;

	ds_buf_init(&out, 0);
	ok(ds_toml_parse(&a, "in", src, strlen(src), &err) == 0, "parse the sample: %s", err.msg);
	ok(bp_cnb_toml_write(&out, a, &err) == 0, "write it: %s", err.msg);
	ok(ds_toml_parse(&b, "out", out.data, out.len, &err) == 0, "parse what was written: %s",
	   err.msg);
	ok(json_equal(a, b), "round trip");
	if (!json_equal(a, b))
		printf("# written:\n%s\n", out.data);
	ok(strstr(out.data, "[[entries]]\nname = \"a\"\n\n[entries.metadata]\nm = 1\n") != NULL,
	   "arrays of tables are written as [[sections]]");
	json_decref(a);
	json_decref(b);

	a = json_pack("{s:n}", "x");
	ok(bp_cnb_toml_write(&out, a, &err) < 0, "a null cannot be written");
	json_decref(a);
	ds_buf_release(&out);
}

static int layer_of(const char *text, int t[3], char **md, char *msg)
{
	json_t *m = NULL;
	ds_error err = DS_ERROR_INIT;
	int rc = bp_cnb_layer_parse(t, &m, text, strlen(text), "x.toml", &err);
	*md = m ? dumps(m) : NULL;
	json_decref(m);
	snprintf(msg, DS_ERROR_MSG_MAX, "%s", err.msg);
	return rc;
}

static void test_layer_parse(void)
{
	int t[3] = {9, 9, 9};
	char *md, msg[DS_ERROR_MSG_MAX];

	ok(layer_of("[types]\nlaunch = true\ncache = true\n[metadata]\nv = \"1\"\n", t, &md, msg) ==
	       0,
	   "a layer toml");
	ok(t[0] == 1 && t[1] == 0 && t[2] == 1, "launch, not build, cache");
	is_str(md, "{\"v\":\"1\"}", "metadata");
	free(md);
	ok(layer_of("[metadata]\nv = 1\n", t, &md, msg) == 0 && !t[0] && !t[1] && !t[2],
	   "no [types]: nothing (a restored layer)");
	free(md);
	ok(layer_of("", t, &md, msg) == 0 && md == NULL, "empty: no metadata");
	ok(layer_of("[types]\nlaunch = \"yes\"\n", t, &md, msg) < 0 &&
	       strstr(msg, "[types] launch must be true or false"),
	   "a string for a boolean: %s", msg);
	ok(layer_of("types = 1\n", t, &md, msg) < 0 && strstr(msg, "'types' must be a table"),
	   "types not a table");
	ok(layer_of("metadata = [1]\n", t, &md, msg) < 0, "metadata not a table");
}

static char *launch_of(const char *text, int minor, char *msg)
{
	json_t *p = NULL, *l = NULL, *both;
	ds_error err = DS_ERROR_INIT;
	char *s;

	if (bp_cnb_launch_parse(&p, &l, text, strlen(text), minor, "launch.toml", &err) < 0) {
		snprintf(msg, DS_ERROR_MSG_MAX, "%s", err.msg);
		return NULL;
	}
	both = json_pack("{s:o,s:o}", "processes", p, "labels", l);
	s = dumps(both);
	json_decref(both);
	return s;
}

static void test_launch_parse(void)
{
	char msg[DS_ERROR_MSG_MAX] = "", *s;

	s = launch_of("[[processes]]\ntype = \"web\"\ncommand = [\"gunicorn\", \"-w\", \"2\"]\n"
		      "args = [\"app:app\"]\ndefault = true\nworking-dir = \"/workspace/src\"\n"
		      "[[processes]]\ntype = \"worker.1\"\ncommand = [\"celery\"]\n"
		      "[[labels]]\nkey = \"a\"\nvalue = \"b\"\n",
		      10, msg);
	is_str(s,
	       "{\"labels\":{\"a\":\"b\"},\"processes\":[{\"command\":[\"gunicorn\",\"-w\",\"2\","
	       "\"app:app\"],\"default\":true,\"type\":\"web\",\"workdir\":\"/workspace/src\"},"
	       "{\"command\":[\"celery\"],\"default\":false,\"type\":\"worker.1\"}]}",
	       "API 0.10: command + args, default, working-dir, labels");
	free(s);
	s = launch_of("[[processes]]\ntype = \"web\"\ncommand = \"echo hi | cat\"\n"
		      "args = [\"x\"]\n[[processes]]\ntype = \"d\"\ncommand = \"/bin/app\"\n"
		      "args = [\"-v\"]\ndirect = true\n",
		      8, msg);
	is_str(s,
	       "{\"labels\":{},\"processes\":[{\"command\":\"echo hi | cat x\",\"default\":false,"
	       "\"type\":\"web\"},{\"command\":[\"/bin/app\",\"-v\"],\"default\":false,"
	       "\"type\":\"d\"}]}",
	       "API 0.8: a shell string, or direct argv");
	free(s);
	ok(!launch_of("[[processes]]\ntype = \"web\"\ncommand = \"x\"\n", 10, msg) &&
	       strstr(msg, "command must be an array of strings"),
	   "API 0.10 refuses a string command: %s", msg);
	ok(!launch_of("[[processes]]\ntype = \"a b\"\ncommand = [\"x\"]\n", 10, msg) &&
	       strstr(msg, "needs a type"),
	   "a type with a space");
	ok(!launch_of("[[processes]]\ntype = \"a\"\ncommand = []\n", 10, msg) &&
	       strstr(msg, "empty command"),
	   "an empty command");
	ok(!launch_of("[[processes]]\ntype = \"a\"\ncommand = [\"x\"]\n[[processes]]\ntype = "
		      "\"a\"\ncommand = [\"y\"]\n",
		      10, msg) &&
	       strstr(msg, "given twice"),
	   "a type twice");
	ok(!launch_of("[[labels]]\nkey = \"a\"\n", 10, msg) && strstr(msg, "labels[0]"),
	   "a label without a value");
	ok(!launch_of("[[processes]]\ntype = \"a\"\ncommand = [\"x\"]\ndefault = 1\n", 10, msg),
	   "default not a boolean");
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_env(void)
{
	char tmpl[] = "/tmp/cnb-env-XXXXXX";
	char *d = mkdtemp(tmpl);
	json_t *env = json_object();
	ds_error err = DS_ERROR_INIT;
	bp_cnb_rewrite rw = {"/build/layers", "/src/app"};
	char *s;

	mkdir(F("%s/env", d), 0755);
	mkdir(F("%s/env/proc", d), 0755);
	put(F("%s/env/A", d), "over\nwritten");
	put(F("%s/env/B.default", d), "default-b");
	put(F("%s/env/C.default", d), "not used");
	put(F("%s/env/PATH.prepend", d), "/build/layers/x/bin");
	put(F("%s/env/PATH.delim", d), ":");
	put(F("%s/env/L.append", d), "tail");
	put(F("%s/env/L.prepend", d), "head");
	put(F("%s/env/N.prepend", d), "no-delim");
	put(F("%s/env/O.override", d), "/src/app/data");
	put(F("%s/env/U.unknown", d), "ignored");
	put(F("%s/env/proc/Z", d), "in a subfolder");
	symlink("/etc/hostname", F("%s/env/LINK", d));
	json_object_set_new(env, "C", json_string("set"));
	json_object_set_new(env, "PATH", json_string("/usr/bin"));
	json_object_set_new(env, "L", json_string("mid"));
	json_object_set_new(env, "N", json_string("old"));
	ok(bp_cnb_env_apply(env, F("%s/env", d), "env", &rw, &err) == 0, "apply: %s", err.msg);
	s = dumps(env);
	is_str(
	    s,
	    "{\"A\":\"over\\nwritten\",\"B\":\"default-b\",\"C\":\"set\",\"L\":\"headmidtail\","
	    "\"N\":\"no-delimold\",\"O\":\"/workspace/data\",\"PATH\":\"/layers/x/bin:/usr/bin\"}",
	    "override (verbatim), default, prepend/append with and without .delim, rewrite; "
	    "subfolders, links and unknown suffixes ignored");
	free(s);
	ok(bp_cnb_env_apply(env, F("%s/none", d), "none", NULL, &err) == 0,
	   "a missing folder changes nothing");
	put(F("%s/env/BAD", d), "");
	{
		FILE *f = fopen(F("%s/env/BAD", d), "w");
		fwrite("a\0b", 1, 3, f);
		fclose(f);
	}
	ok(bp_cnb_env_apply(env, F("%s/env", d), "layer env", NULL, &err) < 0 &&
	       strstr(err.msg, "'layer env/BAD' holds a NUL byte"),
	   "a NUL byte: %s", err.msg);
	unlink(F("%s/env/BAD", d));
	{
		FILE *f = fopen(F("%s/env/BIG", d), "w");
		for (size_t i = 0; i <= CNB_ENV_FILE_MAX; i += 1024)
			fprintf(f, "%01024d", 0);
		fclose(f);
	}
	ok(bp_cnb_env_apply(env, F("%s/env", d), "env", NULL, &err) < 0 &&
	       strstr(err.msg, "larger than the limit"),
	   "a file over the limit: %s", err.msg);
	json_decref(env);
	{
		char *cmd = F("rm -rf '%s'", d);
		if (system(cmd) != 0)
			printf("# cannot remove %s\n", d);
	}
}

static void test_rewrite(void)
{
	bp_cnb_rewrite rw = {"/b/layers", "/src"};
	char *s;

	s = bp_cnb_rewrite_path(&rw, "/b/layers/x:/b/layers2/y:/src:/srcs/z:/src/a");
	is_str(s, "/layers/x:/b/layers2/y:/workspace:/srcs/z:/workspace/a",
	       "whole path prefixes only");
	free(s);
	rw.app_root = "/";
	s = bp_cnb_rewrite_path(&rw, "/usr/bin");
	is_str(s, "/usr/bin", "an app at / is not rewritten");
	free(s);
	ok(bp_cnb_api_minor("0.10") == 10 && bp_cnb_api_minor("0.7") == 7 &&
	       bp_cnb_api_minor("1.0") == -1 && bp_cnb_api_minor("0.") == -1 &&
	       bp_cnb_api_minor("0.1x") == -1,
	   "API versions");
}

int main(void)
{
	test_plan_parse();
	test_resolve();
	test_toml_write();
	test_layer_parse();
	test_launch_parse();
	test_env();
	test_rewrite();
	free_strs();
	return done_testing();
}
