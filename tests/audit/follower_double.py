"""A test double of the follower classifier's interface (types.FollowerModel): four fixed rules,
no trained model, so the engine's tests know every follower's type in advance. It is not the
classifier (services/audit/engine/classifier) and claims nothing about detecting fakes.

Precedence as the real model's: mass follower (follows > 1,500) → influencer (> 5,000
followers) → suspicious (follows at least 10x as many accounts as follow it, and no profile
picture) → real.
"""

from collections.abc import Sequence

from services.audit.engine.types import INFLUENCER_FOLLOWERS, MASS_FOLLOWING, AudienceType, FollowerProfile


class RulesFollowerModel:
    """Test double of FollowerModel."""

    version = "test-double-rules-1"

    def audience_types(self, followers: Sequence[FollowerProfile]) -> list[AudienceType]:
        return [self._type(f) for f in followers]

    @staticmethod
    def _type(f: FollowerProfile) -> AudienceType:
        following = f.following_count or 0
        followed = f.follower_count or 0
        if following > MASS_FOLLOWING:
            return "mass_follower"
        if followed > INFLUENCER_FOLLOWERS:
            return "influencer"
        if following >= 10 * max(followed, 1) and f.has_profile_pic is False:
            return "suspicious"
        return "real"
