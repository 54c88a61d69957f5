/* c_demo.c: the C API (include/ethogram/ethogram.h): compile a rule from text, push events, poll. */
#include <ethogram/ethogram.h>

#include <stdio.h>
#include <string.h>

static void print_detection(void* user, const char* json, size_t len, int suppressed) {
    (void)user;
    printf("%s%.*s\n", suppressed ? "suppressed: " : "", (int)len, json);
}

int main(void) {
    const char* rules =
        "ruleset demo version 1.0.0;\n"
        "event ping {\n    key user: string;\n    time ts: timestamp;\n}\n"
        "taxonomy {\n    demo {\n        repeat;\n    }\n}\n"
        "rule two_pings {\n    label demo.repeat;\n    pattern a: ping -> b: ping within 1m;\n}\n";
    char* error = NULL;
    ethogram_engine* e = ethogram_engine_from_source("demo.etho", rules, 0, &error);
    if (!e) {
        fprintf(stderr, "c_demo: %s\n", error ? error : "?");
        ethogram_free(error);
        return 1;
    }
    const char* events[] = {"{\"type\":\"ping\",\"user\":\"u1\",\"ts\":1000}",
                            "{\"type\":\"ping\",\"user\":\"u1\",\"ts\":2000}", "{not json"};
    for (int i = 0; i < 3; ++i) {
        if (!ethogram_push_json(e, events[i], strlen(events[i]), &error)) {
            printf("refused: %s\n", error);
            ethogram_free(error);
        }
    }
    ethogram_flush(e);
    size_t n = ethogram_poll(e, print_detection, NULL);
    ethogram_stats s;
    ethogram_get_stats(e, &s);
    printf("c_demo: %zu detection(s), %llu events, %llu refused\n", n, (unsigned long long)s.events_in,
           (unsigned long long)s.dead_letters);
    ethogram_engine_free(e);
    return n == 1 ? 0 : 1;
}
