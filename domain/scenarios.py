"""Business scenarios (T8) and message notifications (T9): fixed texts, chosen not written."""

from __future__ import annotations

from enum import StrEnum


class TemplateType(StrEnum):
    BUSINESS = "business"  # verification codes and notices, one recipient at a time
    MASS = "mass"  # one template to many recipients


class MassKind(StrEnum):
    MARKETING = "marketing"
    NOTICE = "notice"
    CUSTOM = "custom"


class BusinessKind(StrEnum):
    """What a business template with the account's own content is for (T1)."""

    VERIFICATION = "verification"  # its own verification codes: S9's 10/hour and 15/day
    NOTICE = "notice"  # order, logistics and site notices (the default)


class Scenario(StrEnum):
    REGISTER = "register"
    RESET_PASSWORD = "reset_password"
    BOOKING = "booking"
    FORM = "form"


class Notification(StrEnum):
    """Switched on directly by the account, with no template review (T9)."""

    GUESTBOOK = "guestbook"
    MEMBER_REGISTRATION = "member_registration"


# T8: the platform's fixed content per scenario; the account supplies only its signature.
SCENARIO_CONTENT: dict[Scenario, str] = {
    Scenario.REGISTER: "您的注册验证码为#code#,5分钟内有效,请勿泄露给他人。",
    Scenario.RESET_PASSWORD: "您正在找回密码,验证码为#code#,5分钟内有效,请勿泄露给他人。",
    Scenario.BOOKING: "您已成功预约#service#,预约时间为#time#,请准时到达。",
    Scenario.FORM: "您收到一条新的表单提交,提交人#name#,请及时登录后台查看。",
}
