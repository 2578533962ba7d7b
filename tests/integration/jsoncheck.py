"""jsoncheck.py: test_json's independent reader of pycensus's JSON (run by Debian's python3 with its
python3-jsonschema, never by the interpreter under test).

    jsoncheck.py SCHEMA FILE [VIEW]     validates FILE against SCHEMA (Draft 2020-12) and against
                                        the schema's definition of the document FILE says it is;
                                        prints "valid <document>", then "field <name> <value>" per
                                        top-level number or string, then VIEW as a table
    jsoncheck.py --csv VIEW FILE        reads a pycensus CSV file with Python's csv module and
                                        prints VIEW of it as a table

A table is written as `pycensus snap -f csv` writes its rows (index,count,...,kind), so the test
reads both sides with the same parser. JSON views: rows (snap), kinds (series: count, size),
retained (retained: retained_objects, retained), diff (diff: count_delta, size_delta), growth
(leaks: count_delta, size_delta), findings (inspect: objects, save; the kind is "inspection what").
CSV views: retained (row=kind lines), diff, findings (inspect's rows)."""
import csv
import json
import sys

import jsonschema

JSON_VIEWS = {
    "rows": ("rows", "count", "size"),
    "kinds": ("kinds", "count", "size"),
    "retained": ("kinds", "retained_objects", "retained"),
    "diff": ("rows", "count_delta", "size_delta"),
    "growth": ("growth", "count_delta", "size_delta"),
}


def table(rows):
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["index", "count", "count_pct", "size", "size_pct", "cumulative_size", "cumulative_pct", "kind"])
    for i, (kind, count, size) in enumerate(rows):
        out.writerow([i, count, 0, size, 0, 0, 0, kind])


def check_json(schema_path, path, view):
    with open(schema_path) as f:
        schema = json.load(f)
    with open(path) as f:
        doc = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    cls(schema).validate(doc)
    # the document is what it says it is, not only one of the documents
    cls({"$ref": "#/$defs/" + doc["document"], "$defs": schema["$defs"]}).validate(doc)
    print("valid", doc["document"])
    for k, v in doc.items():
        if isinstance(v, (int, float, str)) and not isinstance(v, bool):
            print("field", k, v)
    if view == "findings":
        table((f["inspection"] + " " + f["what"], f["objects"], f["save"]) for f in doc["findings"])
    elif view:
        key, count, size = JSON_VIEWS[view]
        table((r["kind"], r[count], r[size]) for r in doc[key])


def check_csv(view, path):
    with open(path, newline="") as f:
        lines = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    if view == "retained":  # row,depth,address,kind,objects,bytes,retained_objects,retained_bytes,description
        table((r[3], int(r[6]), int(r[7])) for r in lines[1:] if r[0] == "kind")
    elif view == "diff":  # kind,count_before,count_after,count_delta,size_before,size_after,size_delta
        table((r[0], int(r[3]), int(r[6])) for r in lines[1:])
    elif view == "findings":  # rank,inspection,objects,bytes,save,after,kind,what,detail,holder,holder_share
        table((r[1] + " " + r[7], int(r[2]), int(r[4])) for r in lines[1:])
    else:
        sys.exit("no CSV view " + view)


if __name__ == "__main__":
    if sys.argv[1] == "--csv":
        check_csv(sys.argv[2], sys.argv[3])
    else:
        check_json(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
