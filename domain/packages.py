"""SMS packages (短信包): the only sizes that can be bought (Q1)."""

from __future__ import annotations

from .errors import InvalidPackage

PACKAGE_SIZES: tuple[int, ...] = (1_000, 5_000, 10_000)


def package_units(package_size: object) -> int:
    """The units a package of ``package_size`` holds; any other size is refused (Q1)."""
    if isinstance(package_size, bool) or not isinstance(package_size, int):
        raise InvalidPackage(
            f"package_size must be one of {list(PACKAGE_SIZES)}.",
            field="package_size",
            detail_zh=f"短信包只有以下规格：{_sizes_zh()}条。",
        )
    if package_size not in PACKAGE_SIZES:
        raise InvalidPackage(
            f"There is no {package_size}-unit package; choose one of {list(PACKAGE_SIZES)}.",
            field="package_size",
            detail_zh=f"没有{package_size}条的短信包，请选择{_sizes_zh()}条。",
        )
    return package_size


def _sizes_zh() -> str:
    return "、".join(f"{size:,}" for size in PACKAGE_SIZES)
