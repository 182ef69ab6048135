"""Reads a run folder's TensorBoard event files with TensorBoard's own EventAccumulator and
prints what it found as JSON: every scalar tag's (step, value) pairs, every image tag's
(step, width, height, PNG as base64), every text tag's strings, and the HParams plugin's
data by tag (decoded with TensorBoard's own protos). tests/it/tensorboard.rs compares it with
the run's metrics.parquet, samples.png and the grid's cells.

Usage: python scripts/tensorboard_read.py RUN_DIR
"""

import base64
import json
import sys

from google.protobuf.json_format import MessageToDict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def plugin_content(acc, plugin):
    """Tag → content of `plugin`'s values; empty when the files have none (a KeyError there)."""
    try:
        return acc.PluginTagToContent(plugin)
    except KeyError:
        return {}


def main(run_dir):
    # 0: keep every event, not a reservoir sample.
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    out = {
        "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]},
        "images": {
            t: [[e.step, e.width, e.height, base64.b64encode(e.encoded_image_string).decode()]
                for e in acc.Images(t)]
            for t in tags["images"]
        },
        "texts": {
            t: [s.decode() for e in acc.Tensors(t) for s in e.tensor_proto.string_val]
            for t in tags["tensors"]
            if not t.startswith("_hparams_/")
        },
        "hparams": {
            t: MessageToDict(plugin_data_pb2.HParamsPluginData.FromString(content))
            for t, content in plugin_content(acc, "hparams").items()
        },
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
