# TEMPORARY: replaced at merge by the signals/classifier helper's version.
"""The follower classifier's entry point as the service calls it: `default_model()`.

This placeholder applies the audience-type precedence (types.py) and has no classifier, so it
calls nobody suspicious. It exists so the service can run end to end before the merge."""

from collections.abc import Sequence

from services.audit.engine.types import INFLUENCER_FOLLOWERS, MASS_FOLLOWING, AudienceType, FollowerProfile


class PrecedenceOnlyModel:
    version = "placeholder-precedence-0"

    def audience_types(self, followers: Sequence[FollowerProfile]) -> list[AudienceType]:
        out: list[AudienceType] = []
        for f in followers:
            if f.following_count is not None and f.following_count > MASS_FOLLOWING:
                out.append("mass_follower")
            elif f.follower_count is not None and f.follower_count > INFLUENCER_FOLLOWERS:
                out.append("influencer")
            else:
                out.append("real")
        return out


def default_model() -> PrecedenceOnlyModel:
    return PrecedenceOnlyModel()
