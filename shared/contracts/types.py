"""Small value types shared by several contracts."""

from enum import StrEnum


class Platform(StrEnum):
    instagram = "instagram"
    tiktok = "tiktok"
    youtube = "youtube"
    x = "x"
    twitch = "twitch"
    facebook = "facebook"
    pinterest = "pinterest"
    snapchat = "snapchat"
    linkedin = "linkedin"
