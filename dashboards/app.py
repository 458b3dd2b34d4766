"""The marketers' app: ``walkout dashboard`` runs this file with Streamlit. It only reads: the published
warehouse copy for every page, and Kafka for the Live page."""

from __future__ import annotations

import streamlit as st

from dashboards.navigation import PAGES


def main() -> None:
    st.set_page_config(page_title="walkout for marketers", page_icon=":material/storefront:", layout="wide")
    sections: dict[str, list[st.Page]] = {}
    for number, spec in enumerate(PAGES):
        page = st.Page(
            spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=number == 0
        )
        sections.setdefault(spec.section, []).append(page)
    st.navigation(sections).run()


main()
