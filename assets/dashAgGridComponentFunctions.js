/* Cell renderers for dash-ag-grid (components/common.py column helpers). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

/* A customer's name linking to /customer/<id>. A plain click navigates inside the app
   (like dcc.Link: history.pushState + the event dcc.Location listens to); a modified
   click (new tab, copy link) is left to the browser. The cell's value stays the name,
   so CSV exports hold the name, not markup. */
dagcomponentfuncs.CustomerLink = function (props) {
    var idField = (props.colDef.cellRendererParams || {}).idField || "organisation_id";
    var id = props.data ? props.data[idField] : null;
    if (id === null || id === undefined) {
        return props.value;
    }
    var href = "/customer/" + encodeURIComponent(id);
    return React.createElement(
        "a",
        {
            href: href,
            className: "customer-link",
            onClick: function (event) {
                if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
                    return;
                }
                event.preventDefault();
                window.history.pushState({}, "", href);
                window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
                window.scrollTo(0, 0);
            },
        },
        props.value
    );
};

/* Functions named in grid props as {"function": "..."} (dash-ag-grid looks them up here). */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

/* CSV export's processCellCallback (components/common.py data_grid): a text cell that a
   spreadsheet would read as a formula (it starts with =, +, -, @, or a tab or carriage
   return that some spreadsheets skip before one) is prefixed with an apostrophe, so it
   opens as text. Numbers are left alone: -3 stays a number. */
dagfuncs.neutraliseFormula = function (value) {
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(value)) {
        return "'" + value;
    }
    return value;
};
