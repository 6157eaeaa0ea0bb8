"""Summary of a --partial JSON-lines file of run_generated (e.g. of an interrupted run)."""

import json
import sys

import pandas as pd

from . import generated_eval as ge

rows = [json.loads(line) for line in open(sys.argv[1])]
pd.set_option("display.width", 200)
print(f"{len(rows)} scenarios, seeds {sorted({r['seed'] for r in rows})}")
print(ge.summarise(rows).round(1).to_string())
tot = pd.DataFrame(rows)
print(f"all families: false incidents per 100 service-weeks {100 * tot['false'].sum() / tot['weeks'].sum():.1f}")
