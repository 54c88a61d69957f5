# scaled_example.sh: sourced by the bench scripts: an example's events scaled into independent copies.
# scale_example ROOT EXAMPLE COPIES: sets `dir` (examples/EXAMPLE), `work` (a temporary directory, removed
# when the script exits) and `lines` (the events' count), and writes "$work/events.jsonl": COPIES copies of
# every user of examples/EXAMPLE/events.jsonl (bench/replicate.py; the key field is read from the example's
# schema.etho).
scale_example() {
    dir="$1/examples/$2"
    local key
    key=$(sed -n 's/^ *key \([A-Za-z_][A-Za-z0-9_]*\):.*/\1/p' "$dir/schema.etho" | head -n 1)
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    python3 "$1/bench/replicate.py" "$dir/events.jsonl" "$key" "$3" >"$work/events.jsonl"
    lines=$(wc -l <"$work/events.jsonl")
}
