#ifndef MAILLAB_CLIBEDIT_SHIM_H
#define MAILLAB_CLIBEDIT_SHIM_H

#include <stdio.h>
#include <editline/readline.h>
#include <histedit.h>

/* libedit's el_set and history are variadic: Swift cannot call them directly. */

static inline int maillab_el_set_prompt(EditLine *el, char *(*prompt)(EditLine *)) {
    return el_set(el, EL_PROMPT, prompt);
}

static inline int maillab_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

static inline int maillab_el_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

static inline int maillab_el_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}

static inline int maillab_el_add_function(EditLine *el, const char *name, const char *help,
                                          unsigned char (*fn)(EditLine *, int)) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

static inline int maillab_el_bind(EditLine *el, const char *key, const char *fn) {
    return el_set(el, EL_BIND, key, fn, NULL);
}

static inline int maillab_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *maillab_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}

/* A character-read function of our own (the REPL polls its input, to print what a server
   pushes while the learner sits at the prompt), and a full redraw of prompt and line. */
static inline int maillab_el_set_getcfn(EditLine *el, int (*fn)(EditLine *, wchar_t *)) {
    return el_set(el, EL_GETCFN, fn);
}

static inline int maillab_el_refresh(EditLine *el) {
    return el_set(el, EL_REFRESH);
}

static inline int maillab_history_set_size(History *h, HistEvent *ev, int size) {
    return history(h, ev, H_SETSIZE, size);
}

static inline int maillab_history_enter(History *h, HistEvent *ev, const char *line) {
    return history(h, ev, H_ENTER, line);
}

static inline int maillab_history_load(History *h, HistEvent *ev, const char *path) {
    return history(h, ev, H_LOAD, path);
}

static inline int maillab_history_save(History *h, HistEvent *ev, const char *path) {
    return history(h, ev, H_SAVE, path);
}

static inline int maillab_history_set_unique(History *h, HistEvent *ev, int unique) {
    return history(h, ev, H_SETUNIQUE, unique);
}

#endif
