#!/usr/bin/env python3
"""The peer in scripts/bench.sh: a careful hand-written deploy with the official `huggingface_hub`.

What a user who does not use hf-deploy would write: create the Docker Space if needed, upload the
already scaffolded folder in one commit, set the secrets and the variable through the API.

  peer_deploy.py --space NS/NAME --folder DIR [--secret KEY=VALUE]... [--variable KEY=VALUE]...

Reads HF_ENDPOINT and HF_TOKEN from the environment (as huggingface_hub does). Prints one JSON line:
{"space_id": ..., "commit_sha": ..., "commit_url": ...}. Exit 0 on success, 1 on a Hub error,
2 on bad arguments.
"""

import argparse
import json
import sys


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"`{text}` is not KEY=VALUE")
    return key, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", required=True, help="NS/NAME")
    parser.add_argument("--folder", required=True, help="the scaffolded Space folder")
    parser.add_argument("--secret", type=key_value, action="append", default=[])
    parser.add_argument("--variable", type=key_value, action="append", default=[])
    args = parser.parse_args()

    # Imported after argument parsing, as a script would; its import time is part of the cost.
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi()
    try:
        api.create_repo(args.space, repo_type="space", space_sdk="docker", exist_ok=True)
        info = api.upload_folder(
            repo_id=args.space,
            repo_type="space",
            folder_path=args.folder,
            commit_message="Deploy with huggingface_hub",
        )
        for key, value in args.secret:
            api.add_space_secret(args.space, key, value)
        for key, value in args.variable:
            api.add_space_variable(args.space, key, value)
    except HfHubHTTPError as e:
        print(f"peer deploy of `{args.space}` failed: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"space_id": args.space, "commit_sha": info.oid, "commit_url": info.commit_url}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
