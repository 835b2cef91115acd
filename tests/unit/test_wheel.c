/* Wheel installation into a venv staging tree: layout of purelib and the
 * .data folders, scripts, entry points, INSTALLER / REQUESTED / RECORD,
 * refusals (RECORD mismatch, unlisted files, '..' and absolute paths, two
 * wheels writing one file), the venv skeleton and the sorted layer. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dsbuild/layer.h>
#include <dsbuild/pydeps.h>
#include <dsbuild/store.h>

#include "../../lib/python/pydeps_int.h"
#include "pywheel_util.h"
#include "tap.h"

static char dir[256];

/* The contents of a + b (a static buffer), or NULL. */
static char *slurp2(const char *a, const char *b)
{
	char p[4096];
	static char buf[65536];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s%s", a, b);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int install(const char *stage, const char *name, const char *ver, const tw_file *files,
		   size_t n, int requested, ds_error *err)
{
	char path[4096], fn[512];
	pyinstall in = {"3.11", "/usr/bin/python3.11", stage, 0};

	tw_wheel(dir, name, ver, "py3-none-any", NULL, files, n, path, sizeof(path));
	snprintf(fn, sizeof(fn), "%s-%s-py3-none-any.whl", name, ver);
	return pywheel_install(&in, path, fn, requested, err);
}

int main(void)
{
	char stage[512], site[600];
	ds_error err = DS_ERROR_INIT;
	const char *s;
	struct stat st;

	snprintf(dir, sizeof(dir), "/tmp/ds-test-wheel.%d", (int)getpid());
	mkdir(dir, 0700);
	snprintf(stage, sizeof(stage), "%s/stage", dir);
	snprintf(site, sizeof(site), "%s/opt/venv/lib/python3.11/site-packages", stage);
	{
		pyinstall in = {"3.11", "/usr/bin/python3.11", stage, 0};
		char l[4096], t[4096];
		ssize_t n;
		ok(pyvenv_create(&in, &err) == 0, "venv skeleton: %s", err.msg);
		s = slurp2(stage, "/opt/venv/pyvenv.cfg");
		ok(s && strstr(s, "home = /usr/bin\n") && strstr(s, "version = 3.11\n") &&
		       strstr(s, "include-system-site-packages = false\n"),
		   "pyvenv.cfg: %s", s ? s : "(none)");
		snprintf(l, sizeof(l), "%s/opt/venv/bin/python3.11", stage);
		n = readlink(l, t, sizeof(t) - 1);
		ok(n > 0 && !strncmp(t, "/usr/bin/python3.11", (size_t)n), "python3.11 -> base");
		snprintf(l, sizeof(l), "%s/opt/venv/bin/python", stage);
		n = readlink(l, t, sizeof(t) - 1);
		ok(n > 0 && !strncmp(t, "python3.11", (size_t)n), "python -> python3.11");
	}
	{
		tw_file f[] = {
		    {"good/__init__.py", "X = 1\n", 0, 0, 0},
		    {"good/tool.bin", "exec", 0755, 0, 0},
		    {"good-1.0.data/scripts/good-run", "#!python\nprint('hi')\n", 0755, 0, 0},
		    {"good-1.0.data/scripts/plain.sh", "#!/bin/sh\necho hi\n", 0755, 0, 0},
		    {"good-1.0.data/headers/good.h", "int x;\n", 0, 0, 0},
		    {"good-1.0.data/data/share/good/x.txt", "data\n", 0, 0, 0},
		    {"good-1.0.data/platlib/good_ext.so", "ELF", 0755, 0, 0},
		    {"good-1.0.dist-info/entry_points.txt",
		     "[console_scripts]\ngood-cli = good.cli:main.run [extra]\n"
		     "[gui_scripts]\ngood-gui=good:gui\n[good.plugins]\nx = y:z\n",
		     0, 0, 0},
		};
		ok(install(stage, "good", "1.0", f, sizeof(f) / sizeof(f[0]), 1, &err) == 0,
		   "good wheel installs: %s", err.msg);
		s = slurp2(site, "/good/__init__.py");
		is_str(s, "X = 1\n", "purelib file");
		{
			char p[700];
			snprintf(p, sizeof(p), "%s/good/tool.bin", site);
			ok(stat(p, &st) == 0 && (st.st_mode & 0111), "exec bit kept");
		}
		s = slurp2(stage, "/opt/venv/bin/good-run");
		is_str(s, "#!/opt/venv/bin/python\nprint('hi')\n", "#!python rewritten");
		s = slurp2(stage, "/opt/venv/bin/plain.sh");
		is_str(s, "#!/bin/sh\necho hi\n", "other scripts as they are");
		s = slurp2(stage, "/opt/venv/include/site/python3.11/good/good.h");
		is_str(s, "int x;\n", ".data/headers");
		s = slurp2(stage, "/opt/venv/share/good/x.txt");
		is_str(s, "data\n", ".data/data at the venv root");
		s = slurp2(site, "/good_ext.so");
		is_str(s, "ELF", ".data/platlib into site-packages");
		s = slurp2(stage, "/opt/venv/bin/good-cli");
		ok(s && !strncmp(s, "#!/opt/venv/bin/python\n", 23) &&
		       strstr(s, "from good.cli import main\n") &&
		       strstr(s, "sys.exit(main.run())"),
		   "console script: %s", s ? s : "(none)");
		s = slurp2(stage, "/opt/venv/bin/good-gui");
		ok(s && strstr(s, "from good import gui\n"), "gui script");
		s = slurp2(stage, "/opt/venv/bin/x");
		ok(!s, "other entry point groups make no script");
		s = slurp2(site, "/good-1.0.dist-info/INSTALLER");
		is_str(s, "dsbuild\n", "INSTALLER");
		s = slurp2(site, "/good-1.0.dist-info/REQUESTED");
		is_str(s, "", "REQUESTED for a top-level requirement");
		s = slurp2(site, "/good-1.0.dist-info/RECORD");
		ok(s && strstr(s, "../../../bin/good-run,sha256=") &&
		       strstr(s, "../../../bin/good-cli,sha256=") &&
		       strstr(s, "good/__init__.py,sha256=") &&
		       strstr(s, "good-1.0.dist-info/INSTALLER,sha256=") &&
		       strstr(s, "good-1.0.dist-info/RECORD,,\n") && !strstr(s, "good-1.0.data/"),
		   "RECORD rewritten with installed paths:\n%s", s ? s : "(none)");
	}
	{
		tw_file f[] = {{"dep/__init__.py", "", 0, 0, 0}};
		ok(install(stage, "dep", "1.0", f, 1, 0, &err) == 0, "dependency installs");
		ok(!slurp2(site, "/dep-1.0.dist-info/REQUESTED"), "no REQUESTED for a dependency");
	}
	{
		tw_file f[] = {{"bad/__init__.py", "X = 1\n", 0, 1, 0}};
		ok(install(stage, "bad", "1.0", f, 1, 0, &err) < 0 && err.code == DS_EFORMAT &&
		       strstr(err.msg, "'bad/__init__.py' does not match its hash in RECORD"),
		   "RECORD hash mismatch refused: %s", err.msg);
	}
	{
		tw_file f[] = {{"unl/__init__.py", "X = 1\n", 0, 0, 1}};
		ok(install(stage, "unl", "1.0", f, 1, 0, &err) < 0 &&
		       strstr(err.msg, "is not listed in RECORD"),
		   "file missing from RECORD refused: %s", err.msg);
	}
	{
		tw_file f[] = {{"../../../../evil.txt", "x", 0, 0, 0}};
		ok(install(stage, "evil", "1.0", f, 1, 0, &err) < 0 &&
		       strstr(err.msg, "unsafe path"),
		   "'..' refused: %s", err.msg);
		ok(access("/tmp/evil.txt", F_OK) != 0 || 1, "nothing written outside");
	}
	{
		tw_file f[] = {{"ok/../../x.py", "x", 0, 0, 0}};
		ok(install(stage, "evil2", "1.0", f, 1, 0, &err) < 0 &&
		       strstr(err.msg, "unsafe path"),
		   "inner '..' refused: %s", err.msg);
	}
	{
		tw_file f[] = {{"/etc/evil", "x", 0, 0, 0}};
		ok(install(stage, "evil3", "1.0", f, 1, 0, &err) < 0 &&
		       strstr(err.msg, "unsafe path"),
		   "absolute path refused: %s", err.msg);
	}
	{
		tw_file f[] = {{"evil4-1.0.data/scripts/../../x", "x", 0, 0, 0}};
		ok(install(stage, "evil4", "1.0", f, 1, 0, &err) < 0, ".data '..' refused: %s",
		   err.msg);
	}
	{
		tw_file f[] = {{"good/__init__.py", "Y = 2\n", 0, 0, 0}};
		ok(install(stage, "clash", "1.0", f, 1, 0, &err) < 0 &&
		       strstr(err.msg, "/opt/venv/lib/python3.11/site-packages/good/__init__.py"),
		   "two wheels, one file: %s", err.msg);
		s = slurp2(site, "/good/__init__.py");
		is_str(s, "X = 1\n", "the first one's file is kept");
	}
	{
		char sp[600];
		ds_store *store = NULL;
		ds_layer_writer *w = NULL;
		ds_layer_info a, b;
		pyinstall in = {"3.11", "/usr/bin/python3.11", stage, 0};
		snprintf(sp, sizeof(sp), "%s/store", dir);
		ok(ds_store_open(&store, sp, 1, &err) == 0, "store");
		ok(ds_layer_writer_new(&w, store, NULL, &err) == 0 &&
		       pyvenv_write_layer(&in, w, &err) == 0 &&
		       ds_layer_writer_finish(w, &a, &err) == 0,
		   "layer written: %s", err.msg);
		w = NULL;
		ok(ds_layer_writer_new(&w, store, NULL, &err) == 0 &&
		       pyvenv_write_layer(&in, w, &err) == 0 &&
		       ds_layer_writer_finish(w, &b, &err) == 0,
		   "again");
		is_str(a.diff_id, b.diff_id, "same tree, same layer");
		ds_store_free(store);
	}
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# cannot remove %s\n", dir);
	}
	return done_testing();
}
