"""The seed reproductions beyond the presets: seed 004 Experiment 1 takes scikit-learn's
SVC (with an intercept) as the max-margin direction of its bias-free model."""

from __future__ import annotations

from implicitbias import theory


def _svc_angle(X, y, svm) -> dict[str, float]:
    """Angle between scikit-learn's SVC (which fits an intercept) and the bias-free SVM."""
    from sklearn.svm import SVC

    clf = SVC(kernel="linear", C=1000).fit(X, y)
    return {
        "angle_to_bias_free_svm": theory.angle_degrees(clf.coef_[0], svm.direction),
        "intercept": float(clf.intercept_[0]),
    }
