import torch
from dassl.utils import AverageMeter, MetricMeter


def test_average_meter_weights_values_by_count():
    meter = AverageMeter()
    meter.update(1.0, n=1)
    meter.update(torch.tensor(4.0), n=3)
    assert meter.val == 4.0 and meter.avg == (1.0 + 12.0) / 4


def test_metric_meter_prints_latest_and_mean_per_name():
    meters = MetricMeter()
    meters.update({"loss": 2.0, "acc": 50.0})
    meters.update({"loss": torch.tensor(1.0), "acc": 100.0})
    assert str(meters) == "loss 1.0000 (1.5000) acc 100.0000 (75.0000)"
