"""The network explorer (notebooks 00 and 01)."""

import pytest

from distlab.widgets import network_explorer


def test_network_explorer_loss_reaches_the_experiment():
    explorer = network_explorer()
    explorer.update(loss=0.0, messages=100)
    assert (explorer.last_result.frame["fate"] == "delivered").all()
    explorer.update(loss=0.6)
    frame = explorer.last_result.frame
    lost = ((frame["fate"] == "dropped") & (frame["reason"] == "loss")).mean()
    assert 0.4 < lost < 0.8


def test_a_split_of_two_nodes_shows_a_message_naming_what_was_chosen():
    # It used to say "groups[1]=[] is empty", naming nothing the person had set.
    explorer = network_explorer()
    explorer.update(nodes=2, partition="split")
    assert explorer.error is not None
    assert "partition='split' needs nodes >= 3" in explorer.error
    assert "nodes=2" in explorer.error
    explorer.update(nodes=3)
    assert explorer.error is None


@pytest.mark.parametrize("preset", ["partition: a majority and a minority for 0.5 s"])
def test_the_partition_preset_cuts_messages_off(preset):
    explorer = network_explorer()
    explorer.apply_preset(preset)
    assert explorer.last_result.summary.loc["exchange", "dropped_partition"] > 0
