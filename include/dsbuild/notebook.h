/* Detection inputs that become processes: Jupyter notebooks (turned into job scripts) and
 * Procfiles.  Both parse untrusted files from the source tree: every size and count is bounded,
 * and a failure names the file (and line or cell) with a hint where one helps.
 *
 * docs/internals/notebook.md describes the conversion rules with examples. */
#ifndef DSBUILD_NOTEBOOK_H
#define DSBUILD_NOTEBOOK_H

#include <stddef.h>

#include <dsbuild/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits.  Over one, the call fails with DS_ENOMEM and a message naming the limit. */
#define DS_NOTEBOOK_MAX_SIZE ((size_t)64 << 20)	  /* bytes of notebook JSON */
#define DS_NOTEBOOK_MAX_CELLS 100000		  /* cells of any type */
#define DS_NOTEBOOK_MAX_SCRIPT ((size_t)64 << 20) /* bytes of script (and of the module) */
#define DS_NOTEBOOK_MAX_NOTES 1000  /* notes kept; one more says how many were left out */
#define DS_NOTEBOOK_MAX_PARAMS 1000 /* parameters read from the environment; the rest, a note */

/* A Jupyter notebook (nbformat 4) turned into a Python script for a job. */
typedef struct ds_notebook {
	char *script;	     /* the script, NUL-terminated, ending in a newline */
	size_t n_cells;	     /* cells of any type */
	size_t n_code_cells; /* code cells (each is in the script, headed "# cell N") */
	char *language;	     /* metadata.kernelspec.language or language_info.name, or NULL */
	char **params;	     /* names assigned in the cell tagged "parameters" (papermill) */
	size_t n_params;
	char **notes; /* what the conversion did that a person should know:
			 "cell 3 line 1: '!pip install x' left out: list x in requirements.txt" */
	size_t n_notes;
	char *exported; /* the cells tagged "export" (or whose first line is "#| export" or
			   "# export"), in order, as a module; NULL when none */
} ds_notebook;

/* Converts the len bytes at data (no NUL needed), the notebook file named file (used in messages
 * and notes only), into a Python script and sets *out to a new ds_notebook (free it with
 * ds_notebook_free()).  The result depends only on data: the same notebook gives the same bytes.
 *
 * The script runs the code cells in order, each headed "# cell N" (N counts all cells from 1);
 * markdown and raw cells are left out.  IPython syntax at the start of a logical line (outside
 * strings and brackets, at any indentation) becomes plain Python or a comment, with a note when
 * the meaning changes:
 *   %matplotlib, %load_ext, %reload_ext, %config, %autoreload     -> comment
 *   other %magic, x = %magic, x = !cmd, %%bash/%%sh/%%script/...    -> comment, note
 *   %time X, x = %time X / %timeit X (note: runs once)               -> X / x = X
 *   %%time, %%capture                                               -> first line dropped
 *   %%writefile [-a] F                                              -> Python writing F
 *   !pip, %pip, %conda, pip install (note: list ... in requirements.txt)  -> comment
 *   !cmd                 -> __import__("subprocess").run("cmd", shell=True, check=True), note
 *   obj?, ?obj (help)    -> comment
 *   get_ipython()        -> kept, note
 * A "from __future__ import" line moves to the top of the script.  A cell that leaves a string,
 * a bracket or a backslash continuation open at its end (a syntax error in Jupyter too) is
 * commented out with a note, so that it cannot swallow the cells after it.
 *
 * The first code cell tagged "parameters" (papermill) is followed by NAME = _ds_param("NAME",
 * NAME) for each top-level "NAME = literal" in it; _ds_param(), defined at the top of the script
 * when there are parameters, reads $NAME (then $UPPER_NAME) and converts it to the default's
 * type.  The script also defines display() as print() when IPython is not installed.  A cell
 * tagged "injected-parameters" (papermill's output) is commented out with a note.
 *
 * Errors, *out untouched:
 *   DS_EINVAL        not JSON ("'nb.ipynb' is not a valid notebook: line 3 column 5: ..."), not
 *                    an nbformat 4 notebook ("... re-save it with Jupyter 4+"), a malformed cell
 *   DS_EUNSUPPORTED  a kernel language that is not Python ("'nb.ipynb' is an 'R' notebook ...")
 *   DS_ENOMEM        over a limit above */
int ds_notebook_convert(ds_notebook **out, const char *file, const char *data, size_t len,
			ds_error *err);

/* Frees nb and everything it owns; NULL-safe.  Returns NULL: nb = ds_notebook_free(nb); */
ds_notebook *ds_notebook_free(ds_notebook *nb);

/* Limits of a Procfile.  Over one, parsing fails with DS_ENOMEM naming the file (and line). */
#define DS_PROCFILE_MAX_LINES 1000
#define DS_PROCFILE_MAX_LINE ((size_t)64 << 10) /* bytes in one line, without its newline */

/* One "type: command" line of a Procfile. */
typedef struct ds_procfile_entry {
	char *type;    /* [A-Za-z0-9_-]+ */
	char *command; /* trimmed, non-empty, valid UTF-8 without control characters but tab */
	int line;      /* 1-based line number in the file */
} ds_procfile_entry;

/* Parses the len bytes at data, the Procfile named file (used in messages), into *out, an array
 * of *n entries in file order (*out is NULL when *n is 0).  Blank lines and lines whose first
 * non-blank character is '#' are skipped; a leading UTF-8 byte order mark, CRLF line ends and
 * blanks around the type and command are accepted.  Errors (DS_EINVAL), out-params untouched:
 * "'Procfile' line 3: ..." for a line without ':', an invalid type, an empty command, a NUL or
 * control character or invalid UTF-8; "'Procfile' line 5: process type 'web' is already defined
 * on line 2" for a duplicate; DS_ENOMEM past the limits above.  Free with ds_procfile_free(). */
int ds_procfile_parse(ds_procfile_entry **out, size_t *n, const char *file, const char *data,
		      size_t len, ds_error *err);

/* Frees the n entries at e and the array; NULL-safe. */
void ds_procfile_free(ds_procfile_entry *e, size_t n);

#ifdef __cplusplus
}
#endif
#endif
