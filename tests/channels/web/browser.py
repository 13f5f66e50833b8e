"""Headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by Selenium.

Selenium's calls block, and the servers under test (the harness hub, fake providers) run on
the test's own event loop, so every browser call runs in a worker thread
(``asyncio.to_thread``) and the loop keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
T = TypeVar("T")


def _binary(name: str, *fallbacks: str) -> str:
    for candidate in (name, *fallbacks):
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError(f"{name} not found: install the Debian packages chromium chromium-driver")


class Browser:
    """One headless Chromium window; ``await`` every method."""

    def __init__(self, language: str = "ar") -> None:
        options = Options()
        options.binary_location = os.environ.get("TAWASUL_CHROMIUM") or _binary(
            "chromium", "chromium-browser"
        )
        for argument in (
            "--headless=new",
            "--no-sandbox",  # tests may run as root (containers)
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=480,960",
            f"--lang={language}",
            "--no-first-run",
            "--disable-extensions",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(os.environ.get("TAWASUL_CHROMEDRIVER") or _binary("chromedriver"))
        self.driver = webdriver.Chrome(options=options, service=service)

    @classmethod
    async def open(cls, language: str = "ar") -> Browser:
        return await asyncio.to_thread(cls, language)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def get(self, url: str) -> None:
        await self.call(self.driver.get, url)

    async def script(self, source: str, *args: Any) -> Any:
        return await self.call(self.driver.execute_script, source, *args)

    async def cdp(self, command: str, params: dict[str, Any]) -> Any:
        return await self.call(self.driver.execute_cdp_cmd, command, params)

    async def share_position(self, origin: str, lat: float, long: float) -> None:
        """Grant geolocation to ``origin`` and put the device at (lat, long)."""
        await self.cdp(
            "Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]}
        )
        await self.cdp(
            "Emulation.setGeolocationOverride",
            {"latitude": lat, "longitude": long, "accuracy": 5},
        )

    async def find_all(self, css: str) -> list[WebElement]:
        return await self.call(self.driver.find_elements, By.CSS_SELECTOR, css)

    async def click(self, element: WebElement) -> None:
        await self.call(element.click)

    async def type(self, css: str, text: str) -> None:
        element = await self.call(self.driver.find_element, By.CSS_SELECTOR, css)
        await self.call(element.send_keys, text)

    async def wait(self, predicate: Callable[[], T | None], within: float, what: str) -> T:
        """Poll ``predicate`` (run in a thread) until it returns something truthy."""

        def poll() -> T:
            deadline = time.monotonic() + within
            last_error: Exception | None = None
            while time.monotonic() < deadline:
                try:
                    value = predicate()
                    if value:
                        return value
                except (StaleElementReferenceException, WebDriverException) as exc:
                    last_error = exc
                time.sleep(0.1)
            raise AssertionError(f"timed out after {within:g} s waiting for {what} ({last_error})")

        return await asyncio.to_thread(poll)

    def bubbles(self, role: str | None = None) -> list[dict[str, Any]]:
        """The conversation on screen (sync, for ``wait`` predicates)."""
        selector = f"#log .msg.{role}" if role else "#log .msg"
        found: list[dict[str, Any]] = self.driver.execute_script(
            """
            return Array.from(document.querySelectorAll(arguments[0])).map((el) => ({
              role: el.classList.contains('user') ? 'user' : 'bot',
              text: Array.from(el.querySelectorAll('.text, .coords'))
                .map((p) => p.textContent).join('\\n'),
              dir: el.getAttribute('dir'),
              seq: el.dataset.seq || null,
              pending: el.classList.contains('pending'),
              chips: Array.from(el.querySelectorAll('.chip')).map((c) => ({
                title: c.textContent, payload: c.dataset.payload || null, disabled: c.disabled,
              })),
              images: Array.from(el.querySelectorAll('img')).map((i) => i.src),
            }));
            """,
            selector,
        )
        return found

    async def chip(self, title: str, within: float = 30.0) -> WebElement:
        """The enabled chip with this title on the newest bot message that has chips."""

        def find() -> WebElement | None:
            for chip in reversed(self.driver.find_elements(By.CSS_SELECTOR, "#log .chip")):
                if chip.text.strip() == title and chip.is_enabled():
                    return chip
            return None

        return await self.wait(find, within, f"a chip {title!r}")

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        await self.call(self.driver.save_screenshot, str(path))
        return path

    async def full_page_screenshot(self, name: str) -> Path:
        """The whole conversation: the window made as tall as the page with its log unrolled."""
        height = await self.script(
            "const log = document.getElementById('log');"
            "const others = document.body.scrollHeight - log.clientHeight;"
            "return log.scrollHeight + others;"
        )
        await self.call(self.driver.set_window_size, 480, min(max(int(height) + 120, 960), 8000))
        await self.script("const log = document.getElementById('log'); log.scrollTop = 0;")
        return await self.screenshot(name)

    def console_errors(self) -> list[str]:
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")  # type: ignore[no-untyped-call]
            if entry.get("level") == "SEVERE"
        ]

    async def close(self) -> None:
        await self.call(self.driver.quit)
