"""The app's pages, one module each: ``render()`` draws the page, and the module runs it when Streamlit
executes the file. :data:`dashboards.navigation.PAGES` lists them in menu order."""
