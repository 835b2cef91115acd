/* lib/detect/procfile.c: "type: command" lines. */
#include <dsbuild/buf.h>
#include <dsbuild/notebook.h>

#include "testutil.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_ok(void)
{
	ds_error e = DS_ERROR_INIT;
	ds_procfile_entry *v = NULL;
	size_t n = 99;
	const char *text = "\xef\xbb\xbf# processes\n"
			   "web: gunicorn --bind 0.0.0.0:$PORT api:app\r\n"
			   "\n"
			   "   \t\n"
			   "  # indented comment\n"
			   "worker:python worker.py  \n"
			   "  release_2 :\t ./migrate.sh && echo 'done: ok'\n"
			   "Job-1: python train.py --lr \"$LR\"\t# a comment in the command\n"
			   "uni: echo héllo";

	ok_err(ds_procfile_parse(&v, &n, "Procfile", text, strlen(text), &e) == 0, &e,
	       "a Procfile parses");
	is_int(n, 5, "five entries");
	if (n != 5)
		return;
	is_str(v[0].type, "web", "type 1");
	is_str(v[0].command, "gunicorn --bind 0.0.0.0:$PORT api:app", "command 1 without CR");
	is_int(v[0].line, 2, "line 1 counts the BOM line");
	is_str(v[1].type, "worker", "type 2 without a blank after ':'");
	is_str(v[1].command, "python worker.py", "command 2 trimmed");
	is_int(v[1].line, 6, "line 2");
	is_str(v[2].type, "release_2", "type 3 with blanks around");
	is_str(v[2].command, "./migrate.sh && echo 'done: ok'", "only the first ':' splits");
	is_int(v[2].line, 7, "line 3");
	is_str(v[3].type, "Job-1", "type 4: letters, digits, '-'");
	is_str(v[3].command, "python train.py --lr \"$LR\"\t# a comment in the command",
	       "a '#' later on the line is part of the command");
	is_str(v[4].type, "uni", "type 5 on the last line without newline");
	is_str(v[4].command, "echo h\xc3\xa9llo", "UTF-8 command");
	ds_procfile_free(v, n);
	ds_procfile_free(NULL, 0);

	v = (ds_procfile_entry *)&v;
	ok_err(ds_procfile_parse(&v, &n, "Procfile", "# nothing\n\n", 11, &e) == 0, &e,
	       "only comments");
	ok(v == NULL && n == 0, "no entries: NULL, 0");
	ok_err(ds_procfile_parse(&v, &n, "Procfile", NULL, 0, &e) == 0, &e, "empty");
	ok(v == NULL && n == 0, "no entries");
	ok(ds_procfile_parse(&v, &n, NULL, "x", 1, &e) == -1, "NULL file name");
	is_str(e.msg, "'Procfile' line 1: no ':' in 'x'", "is named Procfile");
}

struct ecase {
	const char *text;
	size_t len; /* 0: strlen */
	int code;
	const char *msg;
	const char *hint;
};

static const struct ecase error_cases[] = {
	{ "web: a\nweb gunicorn app\n", 0, DS_EINVAL, "'Procfile' line 2: no ':' in 'web gunicorn app'",
	  "each line reads 'type: command'" },
	{ "web:\n", 0, DS_EINVAL, "'Procfile' line 1: process type 'web' has no command", NULL },
	{ "web:  \t \r\n", 0, DS_EINVAL, "'Procfile' line 1: process type 'web' has no command",
	  NULL },
	{ ": cmd\n", 0, DS_EINVAL, "'Procfile' line 1: no process type before ':'", NULL },
	{ "we b: cmd\n", 0, DS_EINVAL, "'Procfile' line 1: 'we b' is not a process type",
	  "letters, digits, '-' and '_'" },
	{ "w\x1b[0m: cmd\n", 0, DS_EINVAL, "'Procfile' line 1: 'w?[0m' is not a process type",
	  NULL },
	{ "w\xc3\xa9: cmd\n", 0, DS_EINVAL, "'Procfile' line 1: 'w\xc3\xa9' is not a process type",
	  NULL },
	{ "web: a\n\n# x\nworker: b\nweb: c\n", 0, DS_EINVAL,
	  "'Procfile' line 5: process type 'web' is already defined on line 1",
	  "give each process its own type" },
	{ "web: a\0" "b\n", 9, DS_EINVAL, "'Procfile' line 1: the command holds a NUL byte", NULL },
	{ "web: a\rb\n", 0, DS_EINVAL,
	  "'Procfile' line 1: the command holds control character 0x0d", NULL },
	{ "web: a\x7f\n", 0, DS_EINVAL,
	  "'Procfile' line 1: the command holds control character 0x7f", NULL },
	{ "ok: x\nweb: caf\xe9\n", 0, DS_EINVAL, "'Procfile' line 2: the command is not valid UTF-8",
	  NULL },
	{ "web: \xed\xa0\x80\n", 0, DS_EINVAL, "'Procfile' line 1: the command is not valid UTF-8",
	  NULL },
	{ "web: \xc0\xaf\n", 0, DS_EINVAL, "'Procfile' line 1: the command is not valid UTF-8",
	  NULL },
	{ "web: \xf4\x90\x80\x80\n", 0, DS_EINVAL,
	  "'Procfile' line 1: the command is not valid UTF-8", NULL },
	{ "web: \xe2\x82\n", 0, DS_EINVAL, "'Procfile' line 1: the command is not valid UTF-8",
	  NULL },
};

static void test_errors(void)
{
	for (size_t i = 0; i < N_ELEMS(error_cases); i++) {
		const struct ecase *c = &error_cases[i];
		ds_error e = DS_ERROR_INIT;
		ds_procfile_entry *v = (ds_procfile_entry *)&e;
		size_t n = 77;
		ok(ds_procfile_parse(&v, &n, "Procfile", c->text, c->len ? c->len : strlen(c->text),
				     &e) == -1,
		   "error case %zu fails", i);
		ok(v == (ds_procfile_entry *)&e && n == 77, "error case %zu: output untouched", i);
		is_int(e.code, c->code, "error case %zu: code", i);
		is_str(e.msg, c->msg, "error case %zu: message", i);
		if (c->hint)
			has_str(e.hint, c->hint, "error case %zu: hint", i);
	}
}

static void test_limits(void)
{
	ds_error e = DS_ERROR_INIT;
	ds_procfile_entry *v;
	size_t n;
	ds_buf b;

	/* DS_PROCFILE_MAX_LINES lines are fine, one more is not */
	ds_buf_init(&b, 0);
	for (int i = 0; i < DS_PROCFILE_MAX_LINES; i++)
		ds_buf_addf(&b, "p%d: run %d\n", i, i);
	ok_err(ds_procfile_parse(&v, &n, "Procfile", b.data, b.len, &e) == 0, &e,
	       "1000 lines parse");
	is_int(n, DS_PROCFILE_MAX_LINES, "1000 entries");
	if (n == DS_PROCFILE_MAX_LINES)
		is_int(v[999].line, 1000, "the last on line 1000");
	ds_procfile_free(v, n);
	ds_buf_adds(&b, "#");
	ok(ds_procfile_parse(&v, &n, "Procfile", b.data, b.len, &e) == -1 && e.code == DS_ENOMEM,
	   "1001 lines do not");
	is_str(e.msg, "'Procfile' has more than 1000 lines", "message");
	ds_buf_release(&b);

	/* a line of DS_PROCFILE_MAX_LINE bytes is fine, one byte more is not */
	ds_buf_init(&b, 0);
	ds_buf_adds(&b, "web: ");
	while (b.len < DS_PROCFILE_MAX_LINE)
		ds_buf_addch(&b, 'x');
	ds_buf_adds(&b, "\n");
	ok_err(ds_procfile_parse(&v, &n, "Procfile", b.data, b.len, &e) == 0, &e,
	       "a 64 KiB line parses");
	if (n == 1)
		is_int(strlen(v[0].command), DS_PROCFILE_MAX_LINE - 5, "all of it");
	ds_procfile_free(v, n);
	b.data[b.len - 1] = 'x';
	ds_buf_adds(&b, "\n");
	ok(ds_procfile_parse(&v, &n, "Procfile", b.data, b.len, &e) == -1 && e.code == DS_ENOMEM,
	   "a longer one does not");
	is_str(e.msg, "'Procfile' line 1: longer than 65536 bytes", "message");
	ds_buf_release(&b);
}

int main(void)
{
	test_ok();
	test_errors();
	test_limits();
	free_strs();
	return done_testing();
}
