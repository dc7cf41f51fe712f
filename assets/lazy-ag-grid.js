/* Stands in for dash_ag_grid.AgGrid (see serving/lazy_scripts.py): the first grid on a
   page loads dash-ag-grid's bundle once, then every grid is the real component drawn
   with the same props. The bundle replaces window.dash_ag_grid when it runs; this puts
   the stand-in back in it, so that Dash keeps rendering the same component type (a
   new type would unmount and rebuild every grid shown). Without the <meta> tag (the
   bundle is in the page as usual) this does nothing. */
(function () {
    "use strict";
    var meta = document.querySelector('meta[name="accurx-lazy-ag-grid"]');
    if (!meta || window.dash_ag_grid) {
        return;
    }
    var loading = null;
    var realAgGrid = null;

    function loadBundle() {
        if (!loading) {
            loading = new Promise(function (resolve, reject) {
                var script = document.createElement("script");
                script.src = meta.content;
                script.onload = function () {
                    var module = window.dash_ag_grid;
                    if (module && module.AgGrid && module.AgGrid !== LazyAgGrid) {
                        realAgGrid = module.AgGrid;
                        window.dash_ag_grid = Object.assign({}, module, {AgGrid: LazyAgGrid});
                        resolve(realAgGrid);
                    } else {
                        reject(new Error("dash-ag-grid's bundle did not define AgGrid"));
                    }
                };
                script.onerror = function () {
                    loading = null; // the next grid tries again
                    reject(new Error("dash-ag-grid's bundle could not be loaded"));
                };
                document.head.appendChild(script);
            });
        }
        return loading;
    }

    function LazyAgGrid(props) {
        var state = React.useState({real: realAgGrid, failed: false});
        var setState = state[1];
        React.useEffect(function () {
            if (realAgGrid) {
                return undefined;
            }
            var live = true;
            loadBundle().then(
                function (real) {
                    if (live) {
                        setState({real: real, failed: false});
                    }
                },
                function () {
                    if (live) {
                        setState({real: null, failed: true});
                    }
                }
            );
            return function () {
                live = false;
            };
        }, []);
        if (state[0].real) {
            return React.createElement(state[0].real, props);
        }
        if (state[0].failed) {
            return React.createElement(
                "div",
                {id: props.id, className: "alert alert-warning", role: "alert"},
                "The table could not be loaded: check the connection and reload the page."
            );
        }
        return React.createElement(
            "div",
            {id: props.id, className: "lazy-grid-placeholder", style: props.style, "aria-busy": "true"},
            "Loading the table…"
        );
    }

    window.dash_ag_grid = {AgGrid: LazyAgGrid};
})();
