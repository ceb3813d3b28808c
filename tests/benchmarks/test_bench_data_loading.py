from benchmarks import bench_data_loading


def test_training_loader_yields_224_crops_and_a_rate(tmp_path):
    path = tmp_path / "loading.json"
    report = bench_data_loading.main(
        [
            "--images",
            "8",
            "--size",
            "64",
            "48",
            "--batch-size",
            "4",
            "--workers",
            "0",
            "--repeats",
            "1",
            "--json",
            str(path),
        ]
    )
    (row,) = report["results"]
    assert row["image_shape"] == [3, 224, 224]
    assert row["timed_images"] == 4 and row["images_per_s"] > 0
    assert path.exists()
