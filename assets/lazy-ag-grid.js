/* Stands in for dash_ag_grid.AgGrid (see serving/lazy_scripts.py): dash-ag-grid's bundle
   is loaded once, when the first grid of the page is about to be seen, then every grid
   is the real component drawn with the same props.

   - "About to be seen": the stand-in's placeholder (the grid's size, so nothing moves
     when the grid replaces it) is within NEAR_PX of the viewport (IntersectionObserver);
     a grid in the first view therefore loads at once, one further down when the reader
     scrolls near it. Once the bundle is in, every grid on the page is drawn.
   - Printing loads every grid: `beforeprint` and the print media query start the load
     (a browser prints what is drawn by then, so the first Ctrl+P of a page whose grids
     were never near the view may still show the placeholders: print again), and
     `window.accurxLazyGrids.whenDrawn()` resolves once every grid has been drawn (the
     customer page's Print button waits for it before calling window.print()).
   - A grid asked to export its CSV (the Download CSV button sets exportDataAsCsv) loads
     at once; the real grid exports when it is ready.

   The bundle replaces window.dash_ag_grid when it runs; this puts the stand-in back in
   it, so that Dash keeps rendering the same component type (a new type would unmount
   and rebuild every grid shown). Without the <meta> tag (the bundle is in the page as
   usual) this does nothing. */
(function () {
    "use strict";
    var meta = document.querySelector('meta[name="accurx-lazy-ag-grid"]');
    if (!meta || window.dash_ag_grid) {
        return;
    }
    var NEAR_PX = 300; // load when the grid is this close below (or above) the view
    // The drawn size of a grid with domLayout "autoHeight" (the app's theme, 16px base):
    // outer border 2, header 49, rows 42, pagination panel 42 (tests/browser/test_lazy_grid.py
    // compares the placeholder with the grid that replaces it).
    var BORDER_PX = 2, HEADER_PX = 49, ROW_PX = 42, PAGER_PX = 42;

    var loading = null;
    var realAgGrid = null;
    var waiting = []; // setState of every stand-in still showing its placeholder
    var mounted = 0; // stand-ins on the page

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
                        waiting.splice(0).forEach(function (setState) {
                            setState({real: realAgGrid, failed: false});
                        });
                        resolve(realAgGrid);
                    } else {
                        reject(new Error("dash-ag-grid's bundle did not define AgGrid"));
                    }
                };
                script.onerror = function () {
                    loading = null; // the next grid tries again
                    waiting.slice().forEach(function (setState) {
                        setState({real: null, failed: true});
                    });
                    reject(new Error("dash-ag-grid's bundle could not be loaded"));
                };
                document.head.appendChild(script);
            });
        }
        return loading;
    }

    function placeholderStyle(props) {
        var style = Object.assign({}, props.style || {});
        var options = props.dashGridOptions || {};
        if (!style.height && options.domLayout === "autoHeight") {
            var rows = (props.rowData || []).length;
            if (options.pagination) {
                rows = Math.min(rows, options.paginationPageSize || 100);
            }
            style.height = (BORDER_PX + HEADER_PX + rows * ROW_PX + (options.pagination ? PAGER_PX : 0)) + "px";
        }
        return style;
    }

    function LazyAgGrid(props) {
        var state = React.useState({real: realAgGrid, failed: false});
        var setState = state[1];
        var box = React.useRef(null);
        var drawn = state[0].real;

        React.useEffect(function () {
            mounted += 1;
            return function () {
                mounted -= 1;
            };
        }, []);

        React.useEffect(function () {
            if (realAgGrid) {
                return undefined;
            }
            waiting.push(setState);
            var observer = null;
            if (window.IntersectionObserver && box.current) {
                observer = new IntersectionObserver(function (entries) {
                    if (entries.some(function (entry) { return entry.isIntersecting; })) {
                        observer.disconnect();
                        loadBundle().catch(function () { return null; });
                    }
                }, {rootMargin: NEAR_PX + "px 0px"});
                observer.observe(box.current);
            } else {
                loadBundle().catch(function () { return null; });
            }
            return function () {
                if (observer) {
                    observer.disconnect();
                }
                var at = waiting.indexOf(setState);
                if (at >= 0) {
                    waiting.splice(at, 1);
                }
            };
        }, []);

        React.useEffect(function () {
            if (props.exportDataAsCsv && !realAgGrid) {
                loadBundle().catch(function () { return null; });
            }
        }, [props.exportDataAsCsv]);

        if (drawn) {
            return React.createElement(drawn, props);
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
            {id: props.id, ref: box, className: "lazy-grid-placeholder", style: placeholderStyle(props),
             "aria-busy": "true"},
            "Loading the table…"
        );
    }

    /* Every grid on the page drawn (rows or AG Grid's "no rows" overlay), or `timeoutMs`
       passed: resolves true when drawn, false on time-out or a failed load. */
    function whenDrawn(timeoutMs) {
        var deadline = Date.now() + (timeoutMs || 10000);
        return loadBundle().then(function () {
            return new Promise(function (resolve) {
                (function check() {
                    var grids = document.querySelectorAll(".ag-root-wrapper");
                    var pending = document.querySelectorAll(".lazy-grid-placeholder").length > 0 ||
                        grids.length < mounted ||
                        Array.prototype.some.call(grids, function (grid) {
                            return !grid.querySelector(".ag-center-cols-container .ag-row, .ag-overlay-no-rows-wrapper");
                        });
                    if (!pending) {
                        resolve(true);
                    } else if (Date.now() > deadline) {
                        resolve(false);
                    } else {
                        setTimeout(check, 50);
                    }
                })();
            });
        }, function () { return false; });
    }

    function loadForPrint() {
        if (document.querySelector(".lazy-grid-placeholder")) {
            loadBundle().catch(function () { return null; });
        }
    }
    window.addEventListener("beforeprint", loadForPrint);
    if (window.matchMedia) {
        window.matchMedia("print").addEventListener("change", function (event) {
            if (event.matches) {
                loadForPrint();
            }
        });
    }

    window.accurxLazyGrids = {load: loadBundle, whenDrawn: whenDrawn};
    window.dash_ag_grid = {AgGrid: LazyAgGrid};
})();
