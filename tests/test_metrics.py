import pytest

from hnlab import metrics

# The worked example of ../shared/papers/README.md: (trained up to, tested, acc, untrained acc).
EXAMPLE = [
    (0, 0, 80, 15),
    (0, 1, 20, 15),
    (0, 2, 13, 16),
    (0, 3, 19, 18),
    (1, 0, 35, 17),
    (1, 1, 85, 10),
    (1, 2, 20, 18),
    (1, 3, 18, 15),
    (2, 0, 30, 12),
    (2, 1, 10, 15),
    (2, 2, 70, 16),
    (2, 3, 25, 17),
    (3, 0, 35, 17),
    (3, 1, 40, 21),
    (3, 2, 25, 15),
    (3, 3, 90, 10),
]


def example():
    R = [[0.0] * 4 for _ in range(4)]
    for i, j, acc, _ in EXAMPLE:
        R[i][j] = acc
    # the untrained score of task j: the row where j is tested before any training on it
    untrained = {j: u for i, j, _, u in EXAMPLE if i == j - 1}
    return R, [0.0] + [untrained[j] for j in (1, 2, 3)]


def test_worked_example_bwt_and_fwt():
    R, untrained = example()
    assert metrics.backward_transfer(R) == pytest.approx(-45)
    assert metrics.forward_transfer(R, untrained) == pytest.approx(5)


def test_final_during_forgetting():
    R, _ = example()
    assert metrics.final_scores(R) == [35, 40, 25, 90]
    assert metrics.during_mean(R) == pytest.approx((80 + 85 + 70 + 90) / 4)
    assert metrics.forgetting(R) == pytest.approx(((80 - 35) + (85 - 40) + (70 - 25)) / 3)


def test_non_square_matrix_raises():
    with pytest.raises(ValueError, match="square"):
        metrics.final_mean([[1, 2]])
